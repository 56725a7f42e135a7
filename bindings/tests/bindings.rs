//! The committed artifacts match the contracts, and the bindings deploy and drive a real
//! Coordinator on anvil.

use std::process::Command;

use alloy::primitives::{U256, keccak256};
use crowdprove_bindings::test_utils::{ChainSpec, TestChain, confirm};
use crowdprove_bindings::{
    Coordinator, ICoordinator, TestToken, decode_revert, describe, workspace_root,
};
use crowdprove_protocol::{JobStatus, LeaseState, RequestId, Verdict};

#[test]
fn committed_artifacts_match_the_contracts() {
    let root = workspace_root();
    let forge = root.join("node_modules/.bin/forge");
    assert!(forge.exists(), "forge is not installed: run `make setup`");
    let built = Command::new(&forge)
        .arg("build")
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "forge build: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    let check = Command::new("node")
        .args(["tools/export-artifacts.js", "--check"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[tokio::test]
async fn deploys_and_runs_one_job_on_anvil() {
    let chain = TestChain::start(ChainSpec::default()).await.unwrap();
    let prover = chain.address(1);
    let coord = chain.coord();
    confirm(
        TestToken::new(chain.token, chain.provider.clone()).approve(chain.coordinator, U256::MAX),
    )
    .await
    .unwrap();
    confirm(coord.postBatch(
        keccak256("root"),
        3u32.try_into().unwrap(),
        2u64.try_into().unwrap(),
        keccak256("c"),
    ))
    .await
    .unwrap();
    chain.stake(1, U256::from(10)).await.unwrap();
    let receipt = confirm(chain.coord_as(1).lease()).await.unwrap();
    let leased = receipt
        .decoded_log::<Coordinator::JobLeased>()
        .expect("a JobLeased event");
    assert_eq!(RequestId(leased.requestId), RequestId::new(1, 1));
    assert_eq!(chain.job_status(1).await.unwrap(), JobStatus::Pending);
    assert_eq!(
        chain.lease_state(leased.requestId).await.unwrap(),
        LeaseState::Leased
    );
    confirm(
        chain
            .coord_as(1)
            .submitProof(leased.requestId, keccak256("proof")),
    )
    .await
    .unwrap();
    // The contract keeps 4 bytes of the hash while the lease awaits its verdict.
    let lease = coord.leaseInfo(leased.requestId).call().await.unwrap();
    assert_eq!(lease.proofPrefix.0, keccak256("proof")[..4]);
    let v = ICoordinator::Verdict {
        requestId: leased.requestId,
        prover,
        result: Verdict::Valid.into(),
        proofHash: keccak256("proof"),
    };
    confirm(coord.recordVerdicts(vec![v])).await.unwrap();
    let info = coord.prover(prover).call().await.unwrap();
    assert_eq!(info.earnings, U256::from(2), "paid the reward");
    assert_eq!(info.unsubmitted, U256::ZERO, "its one lease was submitted");
    let proven = crowdprove_bindings::jobs_proven(&coord, None)
        .await
        .unwrap();
    assert_eq!(proven.get(&prover), Some(&1), "counted from the events");
    assert_eq!(proven.len(), 1, "only the prover that completed a job");
    assert_eq!(
        crowdprove_bindings::jobs_proven(&coord, Some(prover))
            .await
            .unwrap()
            .get(&prover),
        Some(&1),
        "the same for that prover alone"
    );
    // The job was won by its only lease: the verdict deleted its record, the lease reads Valid
    // with no holder, and the helper finds the whole hash in the event.
    let lease = coord.leaseInfo(leased.requestId).call().await.unwrap();
    assert_eq!(LeaseState::try_from(lease.state), Ok(LeaseState::Valid));
    assert!(lease.holder.is_zero() && lease.proofPrefix.is_zero());
    assert_eq!(chain.job_status(1).await.unwrap(), JobStatus::Complete);
    assert_eq!(
        crowdprove_bindings::submitted_proof_hash(&coord, leased.requestId)
            .await
            .unwrap(),
        Some(keccak256("proof"))
    );
    assert_eq!(
        crowdprove_bindings::submitted_proof_hash(&coord, leased.requestId + 1)
            .await
            .unwrap(),
        None,
        "no submission, no hash"
    );
    assert_eq!(
        chain.lease_state(leased.requestId).await.unwrap(),
        LeaseState::Valid
    );
    let (held, accounted) = chain.books(&[prover]).await.unwrap();
    assert_eq!(held, accounted, "the books balance");
}

#[tokio::test]
async fn reverts_decode_into_the_coordinators_errors() {
    let chain = TestChain::start(ChainSpec::default()).await.unwrap();
    chain.stake(1, U256::from(10)).await.unwrap();
    let err = chain.coord_as(1).lease().send().await.unwrap_err();
    assert!(
        matches!(
            decode_revert(&err),
            Some(Coordinator::CoordinatorErrors::NoJobAvailable(_))
        ),
        "{err}"
    );
    assert_eq!(describe(&err), "NoJobAvailable(NoJobAvailable)");
    let refused = confirm(chain.coord_as(2).lease()).await.unwrap_err();
    assert!(refused.to_string().contains("LeaseCapReached"), "{refused}");
}
