//! The committed artifacts match the contracts, and the bindings deploy and drive a real
//! Coordinator on anvil.

use std::process::Command;

use alloy::network::EthereumWallet;
use alloy::node_bindings::Anvil;
use alloy::primitives::{U256, keccak256};
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use crowdprove_bindings::{
    Coordinator, DeployParams, ICoordinator, TestToken, anvil_binary, deploy_devnet, request_id,
    split_request_id, workspace_root,
};

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

#[test]
fn request_ids_pack_job_and_attempt() {
    assert_eq!(request_id(1, 1), 16_777_217);
    assert_eq!(split_request_id(request_id(123_456, 7)), (123_456, 7));
}

#[tokio::test]
async fn deploys_and_runs_one_job_on_anvil() {
    let anvil = Anvil::at(anvil_binary()).spawn();
    let operator: PrivateKeySigner = anvil.keys()[0].clone().into();
    let prover: PrivateKeySigner = anvil.keys()[1].clone().into();
    let (op_addr, prover_addr) = (operator.address(), prover.address());
    let ops = ProviderBuilder::new()
        .wallet(EthereumWallet::from(operator))
        .connect_http(anvil.endpoint_url());
    let params = DeployParams {
        owner: op_addr,
        relayer: op_addr,
        treasury: op_addr,
        param_delay: 3600,
        bond_per_lease: U256::from(10u64),
        min_bond: U256::from(10u64),
        slash_amount: U256::from(5u64),
        min_reassign_age: 0,
        upload_deadline: 60,
        unbonding_delay: 60,
    };
    let (token_addr, coord_addr) = deploy_devnet(ops.clone(), &params).await.unwrap();
    let token = TestToken::new(token_addr, ops.clone());
    let coord = Coordinator::new(coord_addr, ops.clone());
    token
        .mint(op_addr, U256::from(1000))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    token
        .approve(coord_addr, U256::MAX)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    coord
        .postBatch(
            keccak256("root"),
            3u32.try_into().unwrap(),
            2u64.try_into().unwrap(),
            0,
            0,
            0,
            keccak256("c"),
        )
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();

    let p = ProviderBuilder::new()
        .wallet(EthereumWallet::from(prover))
        .connect_http(anvil.endpoint_url());
    let token_p = TestToken::new(token_addr, p.clone());
    let coord_p = Coordinator::new(coord_addr, p.clone());
    token_p
        .mint(prover_addr, U256::from(10))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    token_p
        .approve(coord_addr, U256::MAX)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    coord_p
        .stake(U256::from(10))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let receipt = coord_p
        .lease()
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let leased = receipt
        .decoded_log::<Coordinator::JobLeased>()
        .expect("a JobLeased event");
    assert_eq!(split_request_id(leased.requestId), (1, 1));
    coord_p
        .submitProof(leased.requestId, keccak256("proof"))
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let v = ICoordinator::Verdict {
        requestId: leased.requestId,
        jobId: leased.jobId,
        prover: prover_addr,
        result: 1,
    };
    coord
        .recordVerdicts(vec![v])
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    let info = coord.prover(prover_addr).call().await.unwrap();
    assert_eq!(info.earnings, U256::from(2), "paid the reward");
    assert_eq!(info.jobsProven, U256::from(1));
}
