//! The simulator's tests: the queue model on hand-worked cases (the paper's LRP example and
//! the contract's rules, the proving tree on-chain), the engine against the paper's Table 3
//! bound, properties over random scenarios, TOML input, and the committed differential
//! traces.

use crowdprove_sim::model::{
    BatchError, Coordinator, JobStatus, LeaseError, Params, RequestId, Rules, SkipReason,
    SubmitError, Verdict, VerdictOutcome, parent_of, tree_size,
};
use crowdprove_sim::scenario::{
    Fault, FaultKind, Hardware, Policy, ProverGroup, Scenario, Strike, Timing,
};
use crowdprove_sim::{compare, paper, run, trace};
use proptest::prelude::*;

const PARAMS: Params = Params {
    bond_per_lease: 10,
    min_bond: 10,
    slash_amount: 6,
    min_reassign_age: 0,
    upload_deadline: 60,
    max_attempts: 1 << 24,
    rules: Rules::CONTRACT,
};

/// `PARAMS` without spare leases, for tests of the minimum age alone.
const NO_SPARES: Params = Params {
    rules: Rules {
        spare_attempts: 0,
        ..Rules::CONTRACT
    },
    ..PARAMS
};

fn coord(params: Params, provers: &[(u32, u128)]) -> Coordinator {
    let mut c = Coordinator::new(params);
    for &(a, bond) in provers {
        c.stake(a, bond);
    }
    c
}

fn jobs(r: &Result<Vec<crowdprove_sim::model::Leased>, LeaseError>) -> Vec<u64> {
    r.as_ref().expect("leased").iter().map(|l| l.job).collect()
}

// ------------------------------------------------------------------ the queue model

#[test]
fn without_the_rules_aggregation_jobs_go_first_and_any_prover_takes_pending_jobs() {
    // The contract before the study (`Rules::OFF`), kept as the study's baseline.
    let mut c = coord(with_rules(Rules::OFF), &[(1, 100), (2, 100), (3, 100)]);
    // 6 leaves (jobs 1..6), level 1 (7..9), level 2 (10, 11), the top (12).
    c.post_batch(6, 1).unwrap();
    let l = c.lease(1, 4, 0).unwrap();
    assert_eq!(jobs(&c.lease(3, 1, 0)), [5]);
    for leased in l {
        submit_and_verdict(&mut c, 1, leased.request, 1);
    }
    // Nodes 7 and 8 are fresh: aggregation first, then the last leaf, then LRP from the head
    // (job 5, another prover's: any prover may take it over).
    assert_eq!(jobs(&c.lease(2, 3, 2)), [7, 8, 6]);
    let lrp = c.lease(2, 1, 2).unwrap();
    assert_eq!((lrp[0].job, lrp[0].previous), (5, Some(3)));
    assert_eq!(lrp[0].request, RequestId::new(5, 2));
    c.check_invariants().unwrap();
}

fn with_rules(rules: Rules) -> Params {
    Params { rules, ..PARAMS }
}

fn submit_and_verdict(c: &mut Coordinator, account: u32, rid: RequestId, now: u64) {
    c.submit(account, rid, now).unwrap();
    let out = c.verdict(rid, account, Verdict::Valid, now);
    assert!(
        matches!(
            out,
            VerdictOutcome::Judged {
                completed: true,
                ..
            }
        ),
        "{out:?}"
    );
}

#[test]
fn leaves_first_serves_a_trees_leaves_before_its_nodes_but_an_older_trees_nodes_first() {
    let rules = Rules {
        leaves_first: true,
        ..Rules::OFF
    };
    let mut c = coord(with_rules(rules), &[(1, 100), (2, 100)]);
    c.post_batch(4, 1).unwrap(); // leaves 1..4, nodes 5 and 6, top 7
    let l = c.lease(1, 2, 0).unwrap();
    submit_and_verdict(&mut c, 1, l[0].request, 0);
    assert_eq!(c.job_status(5), JobStatus::Waiting, "one child of two");
    submit_and_verdict(&mut c, 1, l[1].request, 0);
    assert_eq!(
        c.job_status(5),
        JobStatus::Fresh,
        "fresh with its last child"
    );
    assert_eq!(jobs(&c.lease(2, 1, 0)), [3], "the tree's leaves first");
    // A later tree's leaves wait behind the older tree's node.
    c.post_batch(2, 1).unwrap(); // leaves 8, 9, top 10
    assert_eq!(jobs(&c.lease(2, 2, 0)), [4, 5]);
    assert_eq!(jobs(&c.lease(2, 1, 0)), [8]);
    c.check_invariants().unwrap();
}

#[test]
fn a_stale_pending_job_goes_before_fresh_leaves_and_a_younger_one_does_not() {
    let rules = Rules {
        stale_age: Some(300),
        ..Rules::OFF
    };
    let mut c = coord(with_rules(rules), &[(1, 100), (2, 100)]);
    c.post_batch(1, 1).unwrap(); // job 1: the hoarded top of a tree
    c.lease(1, 1, 0).unwrap();
    c.post_batch(3, 1).unwrap(); // leaves 2..4: fresh work of a later batch
    assert_eq!(
        jobs(&c.lease(2, 1, 299)),
        [2],
        "not stale yet: fresh work first"
    );
    let l = c.lease(2, 1, 300).unwrap();
    assert_eq!(
        (l[0].job, l[0].previous),
        (1, Some(1)),
        "stale: ahead of fresh jobs"
    );
    // Without the rule, fresh jobs always go first.
    let mut plain = coord(PARAMS, &[(1, 100), (2, 100)]);
    plain.post_batch(1, 1).unwrap();
    plain.lease(1, 1, 0).unwrap();
    plain.post_batch(3, 1).unwrap();
    assert_eq!(jobs(&plain.lease(2, 3, 10_000)), [2, 3, 4]);
    c.check_invariants().unwrap();
}

#[test]
fn the_adaptive_age_follows_the_trees_observed_proof_times() {
    let rules = Rules {
        adaptive_pct: Some(150),
        ..Rules::OFF
    };
    let mut c = coord(with_rules(rules), &[(1, 100), (2, 100)]);
    c.post_batch(2, 1).unwrap();
    assert_eq!(jobs(&c.lease(1, 2, 0)), [1, 2]);
    // Nothing observed yet: the fixed minimum (0) applies.
    assert_eq!(c.lease(2, 1, 0).unwrap()[0].job, 1);
    // Job 2 proven in 100 s: its tree's jobs are now held back for 150 s from their lease.
    // Job 1's latest lease (prover 2's, at 0) may go at 150, not at 149 as pure LRP allows.
    submit_and_verdict(&mut c, 1, RequestId::new(2, 1), 100);
    assert_eq!(c.lease(1, 1, 149), Err(LeaseError::NoJobAvailable));
    let l = c.lease(1, 1, 150).unwrap();
    assert_eq!((l[0].job, l[0].previous), (1, Some(2)));
    c.check_invariants().unwrap();
}

#[test]
fn idle_only_keeps_pending_jobs_from_busy_provers() {
    let rules = Rules {
        idle_only: true,
        ..Rules::OFF
    };
    let mut c = coord(with_rules(rules), &[(1, 100), (2, 100), (3, 100)]);
    c.post_batch(2, 1).unwrap();
    c.lease(1, 1, 0).unwrap();
    c.lease(2, 1, 0).unwrap();
    // Prover 2 holds job 2: it may not take job 1 over; idle prover 3 may.
    assert_eq!(c.lease(2, 1, 50), Err(LeaseError::NoJobAvailable));
    assert_eq!(c.lease(3, 1, 50).unwrap()[0].previous, Some(1));
    // In one call, the first lease makes the caller busy for the rest.
    let mut d = coord(with_rules(rules), &[(1, 100), (2, 100)]);
    d.post_batch(3, 1).unwrap();
    d.lease(1, 3, 0).unwrap();
    assert_eq!(d.lease(2, 3, 10).unwrap().len(), 1);
    c.check_invariants().unwrap();
    d.check_invariants().unwrap();
}

#[test]
fn the_optimal_unit_schedule_is_hus_and_never_beats_the_simple_bound() {
    use crowdprove_sim::rules::{lower_bound_secs, optimal_unit_rounds};
    // 4 leaves on 2 provers: leaves in 2 rounds, then the two level-1 nodes, then the top.
    assert_eq!(optimal_unit_rounds(4, 2), 4);
    // 5 leaves (11 jobs with the single-child nodes) on 2 provers: 6 rounds, no idle slot.
    assert_eq!(optimal_unit_rounds(5, 2), 6);
    assert_eq!(optimal_unit_rounds(1, 7), 1);
    // 1,024 leaves on 128: 8 + 4 + 2 + 1 + 7 = 22 rounds, where the simple bound says 18.
    assert_eq!(optimal_unit_rounds(1_024, 128), 22);
    for (jobs, provers) in [(1u32, 1u32), (7, 3), (100, 10), (1_000, 33), (1_024, 1_024)] {
        let opt = f64::from(optimal_unit_rounds(jobs, provers));
        assert!(
            opt >= lower_bound_secs(jobs, provers, 1.0, 1.0) - 1e-9,
            "{jobs}/{provers}"
        );
        // One prover: every job in turn.
        let all = crowdprove_protocol::TreeShape::new(jobs)
            .unwrap()
            .job_count();
        assert_eq!(optimal_unit_rounds(jobs, 1), all);
    }
}

#[test]
fn the_candidate_rules_prove_every_tree() {
    for c in crowdprove_sim::rules::CANDIDATES {
        let mut sc = compare::scenario(
            compare::Setup {
                jobs: 64,
                provers: 8,
                seeds: 1,
            },
            c.policy,
            Some((FaultKind::Hoarder, Strike::LATE)),
            0.25,
            false,
            1,
        );
        sc.rules = c.rules;
        sc.timing.prefetch_lead_secs = c.prefetch_lead;
        let (o, sim) = crowdprove_sim::Sim::new(sc).run();
        assert!(o.finished, "{}: {o:?}", c.name);
        assert_eq!(o.jobs_completed, 127, "{}", c.name);
        sim.model().check_invariants().unwrap();
    }
}

#[test]
fn lrp_moves_the_head_to_the_tail_and_releases_the_previous_holder() {
    // The LRP mechanics, shown without idle-only (with it, a prover takes over one job at a
    // time and only while it holds none).
    // The paper's example: a pending queue [1, 2, 3]; each request takes the least recently
    // processed job, even if another prover holds it.
    let mut c = coord(with_rules(Rules::OFF), &[(1, 30), (2, 30)]);
    c.post_batch(3, 1).unwrap();
    c.lease(1, 3, 0).unwrap();
    assert_eq!(c.prover(1).active, 3);
    assert_eq!(jobs(&c.lease(2, 1, 5)), [1]);
    assert_eq!(c.prover(1).active, 2, "the previous holder's count drops");
    assert_eq!(c.queue(), (0, 3, 2, 1), "job 1 moved to the tail");
    assert_eq!(jobs(&c.lease(2, 2, 6)), [2, 3]);
    assert_eq!(c.prover(1).active, 0);
    // Prover 2 holds the head (1) and the next (2): nothing for it.
    assert_eq!(
        c.lease(2, 1, 7),
        Err(LeaseError::CapReached { active: 3, cap: 3 })
    );
    c.check_invariants().unwrap();
}

#[test]
fn lrp_skips_the_callers_own_head_once_and_no_further() {
    // Without idle-only, as above.
    let mut c = coord(with_rules(Rules::OFF), &[(1, 100), (2, 100)]);
    c.post_batch(3, 1).unwrap();
    c.lease(1, 2, 0).unwrap(); // jobs 1, 2 held by 1
    c.lease(2, 1, 0).unwrap(); // job 3 held by 2
    // Prover 1 holds the head (1): it gets the next (2)? No, 2 is its own too: nothing.
    assert_eq!(c.lease(1, 1, 1), Err(LeaseError::NoJobAvailable));
    // Prover 2 takes the head.
    assert_eq!(jobs(&c.lease(2, 1, 1)), [1]);
    // Now the list is [2 (p1), 3 (p2), 1 (p2)]: prover 1 skips its own head and gets 3.
    assert_eq!(jobs(&c.lease(1, 1, 2)), [3]);
    c.check_invariants().unwrap();
}

#[test]
fn minimum_reassign_age_holds_jobs_back_until_it_passes() {
    let mut c = coord(
        Params {
            min_reassign_age: 100,
            ..NO_SPARES
        },
        &[(1, 10), (2, 10)],
    );
    c.post_batch(1, 1).unwrap();
    c.lease(1, 1, 1_000).unwrap();
    assert_eq!(c.lease(2, 1, 1_099), Err(LeaseError::NoJobAvailable));
    assert_eq!(jobs(&c.lease(2, 1, 1_100)), [1]);
}

#[test]
fn spares_go_at_once_up_to_spare_attempts_and_never_to_a_lapsed_prover() {
    // The contract's test_Lease_SparesGoAtOnceUpToSpareAttempts and
    // test_Lease_LapsedProverTakesNoSpareAndLosesItsProtection, on the model (one spare here
    // throughout, so the last lease is a spare of its own right).
    let params = Params {
        min_reassign_age: 120,
        ..PARAMS
    };
    assert_eq!(params.rules.spare_attempts, 2);
    let mut c = coord(params, &[(1, 10), (2, 10), (3, 10), (4, 10)]);
    c.post_batch(1, 1).unwrap();
    c.lease(1, 1, 0).unwrap();
    assert_eq!(c.lease(2, 1, 0).unwrap()[0].request, RequestId::new(1, 2));
    assert!(c.prover(1).lapsed, "handed on unsubmitted");
    assert_eq!(c.lease(3, 1, 0).unwrap()[0].request, RequestId::new(1, 3));
    assert_eq!(c.lease(4, 1, 119), Err(LeaseError::NoJobAvailable));
    assert_eq!(c.lease(4, 1, 120).unwrap()[0].request, RequestId::new(1, 4));
    assert_eq!(c.totals().spares, 2);

    let mut rules = Rules::CONTRACT;
    rules.spare_attempts = 1;
    let mut c = coord(
        Params {
            min_reassign_age: 120,
            rules,
            ..PARAMS
        },
        &[(1, 10), (2, 10), (3, 10)],
    );
    c.post_batch(2, 1).unwrap();
    c.lease(1, 1, 0).unwrap(); // job 1
    c.lease(2, 1, 0).unwrap(); // job 2
    assert_eq!(jobs(&c.lease(3, 1, 0)), [1], "a spare: prover 1 lapses");
    assert_eq!(
        c.lease(1, 1, 0),
        Err(LeaseError::NoJobAvailable),
        "a lapsed prover takes no spare"
    );
    assert_eq!(
        c.lease(1, 1, 120),
        Err(LeaseError::NoJobAvailable),
        "job 2 is old enough, but prover 2 holds it: not for a lapsed prover"
    );
    submit_and_verdict(&mut c, 2, RequestId::new(2, 1), 120);
    submit_and_verdict(&mut c, 3, RequestId::new(1, 2), 120);
    assert!(!c.prover(3).lapsed);
    assert_eq!(
        c.lease(1, 1, 120),
        Err(LeaseError::NoJobAvailable),
        "nor the fresh top"
    );
    c.post_batch(1, 1).unwrap(); // job 4
    assert_eq!(
        jobs(&c.lease(1, 1, 120)),
        [4],
        "a fresh round-0 job it may take"
    );
    assert_eq!(
        jobs(&c.lease(3, 1, 120)),
        [3],
        "the node: a prover in good standing"
    );
    let l = c.lease(2, 1, 120).unwrap();
    assert_eq!(
        l[0].request,
        RequestId::new(4, 2),
        "a lapsed holder's young lease goes at once"
    );
    assert_eq!(c.totals().spares, 2);
    c.check_invariants().unwrap();
}

#[test]
fn a_lapsed_prover_takes_a_held_job_once_overdue() {
    // The contract's test_Lease_ALapsedProverTakesAJobHeldTwiceTheStaleAge, on the model: twice
    // the minimum age without a stale age, twice the stale age with one.
    for (stale_age, overdue) in [(None, 60), (Some(45), 90)] {
        let mut rules = Rules::CONTRACT;
        rules.stale_age = stale_age;
        let params = Params {
            rules,
            min_reassign_age: 30,
            ..PARAMS
        };
        let mut c = coord(params, &[(1, 10), (2, 20), (3, 10)]);
        c.post_batch(3, 1).unwrap(); // leaves 1-3
        c.lease(1, 1, 0).unwrap(); // job 1
        c.lease(2, 1, 0).unwrap(); // job 2
        c.lease(2, 1, 0).unwrap(); // job 3
        assert_eq!(jobs(&c.lease(3, 1, 0)), [1], "a spare: prover 1 lapses");
        assert_eq!(
            c.lease(1, 1, overdue - 1),
            Err(LeaseError::NoJobAvailable),
            "job 2 is held, not yet for twice the age"
        );
        assert_eq!(
            jobs(&c.lease(1, 1, overdue)),
            [2],
            "overdue: a lapsed prover takes it"
        );
        assert_eq!(
            (c.totals().lapsed_refused, c.totals().lapsed_overdue),
            (1, 1)
        );
        c.check_invariants().unwrap();
    }
}

#[test]
fn a_lapsed_prover_takes_a_job_nobody_holds_and_no_stale_one() {
    // The contract's test_Lease_ALapsedProverTakesAJobNobodyHolds, on the model.
    let mut rules = Rules::CONTRACT;
    rules.stale_age = Some(30);
    let params = Params {
        rules,
        min_reassign_age: 30,
        ..PARAMS
    };
    let mut c = coord(params, &[(1, 10), (2, 20), (3, 10), (4, 10)]);
    c.post_batch(2, 1).unwrap(); // jobs 1, 2, top 3
    c.lease(1, 1, 0).unwrap(); // job 1
    let b = c.lease(2, 1, 0).unwrap()[0].request; // job 2
    assert_eq!(jobs(&c.lease(3, 1, 0)), [1], "a spare: prover 1 lapses");
    c.submit(2, b, 0).unwrap();
    c.verdict(b, 2, Verdict::Invalid, 0); // prover 2 lapses; nobody holds job 2
    assert_eq!(jobs(&c.lease(1, 1, 30)), [2], "the job nobody holds");
    assert_eq!(
        c.lease(2, 1, 30),
        Err(LeaseError::NoJobAvailable),
        "job 1 is prover 3's"
    );
    c.post_batch(1, 1).unwrap(); // job 4
    assert_eq!(
        jobs(&c.lease(2, 1, 30)),
        [4],
        "no stale job: a fresh round-0 job"
    );
    assert_eq!(
        jobs(&c.lease(4, 1, 30)),
        [1],
        "the stale job: a prover in good standing"
    );
    assert_eq!(
        (c.totals().lapsed_refused, c.totals().lapsed_unheld),
        (1, 1)
    );
    c.check_invariants().unwrap();

    // The contract's test_Lease_WithoutAMinimumAgeALapsedProverTakesAnyJob: without a minimum
    // age every lease handed on lapses its holder, so the rule is off (plain LRP).
    let mut c = coord(PARAMS, &[(1, 10), (2, 10)]);
    c.post_batch(1, 1).unwrap();
    c.lease(1, 1, 0).unwrap();
    c.lease(2, 1, 0).unwrap();
    assert!(c.prover(1).lapsed);
    assert_eq!(jobs(&c.lease(1, 1, 0)), [1], "prover 2's job, now the head");
}

#[test]
fn a_retry_limit_stops_reassignment_after_max_attempts() {
    let mut c = coord(
        Params {
            max_attempts: 2,
            ..PARAMS
        },
        &[(1, 10), (2, 10), (3, 10)],
    );
    c.post_batch(1, 1).unwrap();
    c.lease(1, 1, 0).unwrap();
    assert_eq!(c.lease(2, 1, 1).unwrap()[0].request, RequestId::new(1, 2));
    assert_eq!(
        c.lease(3, 1, 2),
        Err(LeaseError::NoJobAvailable),
        "attempts exhausted"
    );
    c.check_invariants().unwrap();
}

#[test]
fn a_jobs_last_lease_leaves_it_out_of_the_list_so_it_blocks_no_other_job() {
    // The contract's test_Lease_AnExhaustedJobBlocksNoOtherJob, with a limit of 2 leases.
    let mut c = coord(
        Params {
            max_attempts: 2,
            ..PARAMS
        },
        &[(1, 10), (2, 10), (3, 10), (4, 10)],
    );
    c.post_batch(2, 1).unwrap();
    assert_eq!(jobs(&c.lease(1, 1, 0)), [1]);
    assert_eq!(jobs(&c.lease(2, 1, 0)), [2]);
    let l = c.lease(3, 1, 1).unwrap();
    assert_eq!(l[0].request, RequestId::new(1, 2), "job 1's last lease");
    assert_eq!(c.queue().1, 1, "only job 2 is listed");
    assert_eq!(
        jobs(&c.lease(4, 1, 2)),
        [2],
        "job 2 is not blocked behind job 1"
    );
    let r = RequestId::new(1, 2);
    c.submit(3, r, 3).unwrap();
    c.verdict(r, 3, Verdict::Valid, 3);
    assert_eq!(
        c.job_status(1),
        JobStatus::Complete,
        "its holder still completes it"
    );
    // Job 2's second lease was its last too: the list is empty, and stays consistent.
    assert_eq!(c.queue().1, 0);
    c.check_invariants().unwrap();
    let r = RequestId::new(2, 2);
    c.submit(4, r, 4).unwrap();
    c.verdict(r, 4, Verdict::Valid, 4);
    assert_eq!(c.job_status(2), JobStatus::Complete);
    c.check_invariants().unwrap();
}

#[test]
fn bond_caps_active_leases_and_a_slash_below_the_minimum_stops_leasing() {
    let mut c = coord(PARAMS, &[(1, 25), (2, 10)]);
    c.post_batch(10, 1).unwrap();
    assert_eq!(c.lease_cap(1), 2);
    assert_eq!(
        c.lease(1, 16, 0).unwrap().len(),
        2,
        "capped by bond, not by n"
    );
    assert_eq!(
        c.lease(1, 1, 0),
        Err(LeaseError::CapReached { active: 2, cap: 2 })
    );
    assert_eq!(c.lease(1, 17, 0), Err(LeaseError::BadLeaseCount));
    let r = c.lease(2, 1, 0).unwrap()[0].request;
    c.submit(2, r, 1).unwrap();
    let v = c.verdict(r, 2, Verdict::Invalid, 2);
    assert_eq!(
        v,
        VerdictOutcome::Judged {
            completed: false,
            paid: 0,
            slashed: 6,
            handed: None,
        }
    );
    assert_eq!(c.prover(2).bond, 4);
    assert_eq!(
        c.lease(2, 1, 3),
        Err(LeaseError::CapReached { active: 0, cap: 0 })
    );
    // The invalid job stays pending and goes to the next prover who asks.
    assert_eq!(c.job_status(3), JobStatus::Pending);
    c.check_invariants().unwrap();
}

#[test]
fn first_valid_proof_wins_and_no_job_is_paid_twice() {
    let mut c = coord(PARAMS, &[(1, 10), (2, 10)]);
    c.post_batch(1, 7).unwrap();
    let a = c.lease(1, 1, 0).unwrap()[0].request;
    let b = c.lease(2, 1, 1).unwrap()[0].request;
    assert_eq!(c.prover(1).active, 0, "LRP moved the job on");
    c.submit(1, a, 2).unwrap();
    assert_eq!(c.prover(1).active, 1, "a submitted old lease counts again");
    c.submit(2, b, 2).unwrap();
    let first = c.verdict(a, 1, Verdict::Valid, 3);
    assert_eq!(
        first,
        VerdictOutcome::Judged {
            completed: true,
            paid: 7,
            slashed: 0,
            handed: None,
        }
    );
    let second = c.verdict(b, 2, Verdict::Valid, 3);
    assert_eq!(
        second,
        VerdictOutcome::Judged {
            completed: false,
            paid: 0,
            slashed: 0,
            handed: None,
        }
    );
    assert_eq!(
        c.verdict(b, 2, Verdict::Valid, 4),
        VerdictOutcome::Skipped(SkipReason::AlreadyJudged)
    );
    assert_eq!((c.prover(1).earnings, c.prover(2).earnings), (7, 0));
    assert_eq!((c.prover(1).active, c.prover(2).active), (0, 0));
    assert_eq!(c.totals().paid, 7);
    c.check_invariants().unwrap();
}

#[test]
fn submissions_and_verdicts_that_do_not_apply_are_refused() {
    let mut c = coord(PARAMS, &[(1, 10), (2, 10)]);
    c.post_batch(1, 1).unwrap();
    let r = c.lease(1, 1, 0).unwrap()[0].request;
    assert_eq!(
        c.submit(1, RequestId::new(1, 2), 0),
        Err(SubmitError::UnknownRequest)
    );
    assert_eq!(
        c.submit(1, RequestId::new(9, 1), 0),
        Err(SubmitError::UnknownRequest)
    );
    assert_eq!(c.submit(2, r, 0), Err(SubmitError::NotLeaseHolder));
    assert_eq!(
        c.verdict(r, 1, Verdict::Valid, 0),
        VerdictOutcome::Skipped(SkipReason::NotSubmitted)
    );
    c.submit(1, r, 10).unwrap();
    assert_eq!(c.submit(1, r, 10), Err(SubmitError::AlreadySubmitted));
    assert_eq!(
        c.verdict(r, 2, Verdict::Valid, 11),
        VerdictOutcome::Skipped(SkipReason::WrongJobOrProver)
    );
    assert_eq!(
        c.verdict(r, 1, Verdict::Missing, 69),
        VerdictOutcome::Skipped(SkipReason::UploadDeadlineNotPassed)
    );
    assert_eq!(
        c.verdict(r, 1, Verdict::Missing, 70),
        VerdictOutcome::Judged {
            completed: false,
            paid: 0,
            slashed: 0,
            handed: None,
        },
        "missing bytes: no slash"
    );
    assert_eq!(c.prover(1).bond, 10);
    // Job still pending; a second lease completes it; the first holder's late proof is stale.
    let r2 = c.lease(2, 1, 71).unwrap()[0].request;
    c.submit(2, r2, 72).unwrap();
    c.verdict(r2, 2, Verdict::Valid, 73);
    assert_eq!(c.job_status(1), JobStatus::Complete);
    c.check_invariants().unwrap();
}

#[test]
fn a_cancelled_batch_refunds_and_its_jobs_are_cleared_by_leases_that_keep_the_clearing() {
    let mut c = coord(PARAMS, &[(1, 30), (2, 10)]);
    let b1 = c.post_batch(3, 2).unwrap(); // 6 jobs: escrow 12
    c.lease(1, 2, 0).unwrap(); // jobs 1, 2 pending, job 3 fresh
    assert_eq!(c.cancel_batch(b1), Ok(12));
    assert_eq!(c.queue(), (0, 2, 1, 2));
    // Nothing else to lease: the lease leases nothing but keeps its clears.
    assert_eq!(c.lease(2, 1, 1), Err(LeaseError::ClearedOnly));
    assert_eq!(c.queue(), (0, 0, 0, 0));
    assert_eq!(c.prover(1).active, 0);
    assert_eq!(
        c.lease(2, 1, 1),
        Err(LeaseError::NoJobAvailable),
        "then nothing"
    );
    c.stake(3, 10);
    c.post_batch(1, 2).unwrap(); // job 7
    assert_eq!(jobs(&c.lease(2, 1, 2)), [7], "fresh first");
    assert_eq!(jobs(&c.lease(3, 1, 3)), [7], "LRP");
    assert_eq!(c.job_status(1), JobStatus::Cleared);
    assert_eq!(c.job_status(2), JobStatus::Cleared);
    assert_eq!(
        c.prover(1).active,
        0,
        "cleared jobs leave their holder's count"
    );
    assert_eq!(c.queue(), (0, 1, 7, 7));
    c.check_invariants().unwrap();
}

#[test]
fn a_batch_is_its_leaves_tree_in_the_protocols_shape() {
    for leaves in [1u32, 2, 3, 5, 6, 7, 12, 13, 100, 1_024, 17_188] {
        let shape = crowdprove_protocol::TreeShape::new(leaves).unwrap();
        assert_eq!(tree_size(leaves.into()), u64::from(shape.job_count()));
        // Every node's parent is the protocol's, with the protocol's children.
        let mut offset = 0u64;
        for level in 0..=shape.height() {
            for index in 0..shape.nodes_at(level) {
                let got = parent_of(offset + u64::from(index), leaves.into());
                if level == shape.height() {
                    assert_eq!(got, None, "{leaves}: the top");
                    continue;
                }
                let parent = shape.node(level + 1, index / 2).unwrap();
                let (left, right) = parent.children.unwrap();
                let above = offset + u64::from(shape.nodes_at(level));
                assert_eq!(
                    got,
                    Some((above + u64::from(index / 2), 1 + u32::from(right.is_some()))),
                    "{leaves} leaves, level {level}, node {index}"
                );
                assert!(left == index || right == Some(index));
            }
            offset += u64::from(shape.nodes_at(level));
        }
    }
}

#[test]
fn nodes_become_fresh_with_their_last_child_and_the_tops_proof_finalizes() {
    // A minimum age keeps LRP out of the way.
    let params = Params {
        min_reassign_age: 1_000,
        ..NO_SPARES
    };
    let mut c = coord(params, &[(1, 100), (2, 100), (3, 100)]);
    assert_eq!(c.post_batch(0, 1), Err(BatchError::BadJobCount));
    // 5 leaves (1..5), level 1 (6, 7, and 8 over leaf 5 alone), level 2 (9, and 10 over 8
    // alone), the top (11).
    let b = c.post_batch(5, 1).unwrap();
    let batch = c.batch(b).unwrap();
    assert_eq!((batch.first_job, batch.job_count, batch.top()), (1, 11, 11));
    assert_eq!(c.totals().escrowed, 11);
    assert_eq!(c.queue().0, 5, "only the leaves are fresh");
    assert!((6..=11).all(|j| c.job_status(j) == JobStatus::Waiting));
    let l = c.lease(1, 5, 0).unwrap();
    assert_eq!(
        c.lease(2, 1, 0),
        Err(LeaseError::NoJobAvailable),
        "nothing fresh"
    );
    // The single-child node 8 is fresh with leaf 5's proof, and node 10 is not: it is the
    // parent of 8, not of 5.
    submit_and_verdict(&mut c, 1, l[4].request, 1);
    assert_eq!(c.job_status(8), JobStatus::Fresh);
    assert_eq!(c.job_status(10), JobStatus::Waiting);
    submit_and_verdict(&mut c, 1, l[1].request, 1);
    submit_and_verdict(&mut c, 1, l[0].request, 1);
    // Fresh nodes go in the order they became fresh: 8, then 6; and only to a prover holding
    // no lease, so a call for two gets one.
    assert_eq!(c.queue().0, 2);
    assert_eq!(c.batch(b).unwrap().fresh_nodes, 2);
    assert_eq!(jobs(&c.lease(2, 2, 2)), [8]);
    assert_eq!(c.lease(2, 1, 2), Err(LeaseError::NoJobAvailable), "busy");
    assert_eq!(jobs(&c.lease(3, 1, 2)), [6]);
    for (prover, job) in [(2, 8), (3, 6)] {
        submit_and_verdict(&mut c, prover, RequestId::new(job, 1), 3);
    }
    assert_eq!(c.job_status(10), JobStatus::Fresh, "over 8 alone");
    assert_eq!(c.job_status(9), JobStatus::Waiting, "6 done, 7 not");
    for k in [2, 3] {
        submit_and_verdict(&mut c, 1, l[k].request, 4);
    }
    assert_eq!(jobs(&c.lease(2, 1, 5)), [10]);
    assert_eq!(jobs(&c.lease(3, 1, 5)), [7]);
    submit_and_verdict(&mut c, 2, RequestId::new(10, 1), 6);
    submit_and_verdict(&mut c, 3, RequestId::new(7, 1), 6);
    assert_eq!(jobs(&c.lease(1, 1, 7)), [9]);
    submit_and_verdict(&mut c, 1, RequestId::new(9, 1), 8);
    assert_eq!(c.batch(b).unwrap().final_request, None);
    let top = c.lease(2, 1, 9).unwrap()[0].request;
    assert_eq!(top, RequestId::new(11, 1));
    submit_and_verdict(&mut c, 2, top, 10);
    let batch = c.batch(b).unwrap();
    assert_eq!((batch.final_request, batch.jobs_left), (Some(top), 0));
    assert_eq!(c.totals().paid, 11);
    assert_eq!(c.cancel_batch(b), Err(BatchError::Finalized));
    c.check_invariants().unwrap();
}

#[test]
fn a_tree_cancelled_mid_way_drops_its_fresh_nodes_and_never_readies_the_rest() {
    let mut c = coord(PARAMS, &[(1, 100), (2, 100), (3, 100)]);
    let b1 = c.post_batch(4, 2).unwrap(); // leaves 1..4, nodes 5, 6, top 7
    let l = c.lease(1, 4, 0).unwrap();
    for leased in &l[..2] {
        submit_and_verdict(&mut c, 1, leased.request, 1);
    }
    assert_eq!(c.job_status(5), JobStatus::Fresh);
    c.submit(1, l[2].request, 1).unwrap();
    // Cancelled with leaves 3 and 4 pending, node 5 fresh, 6 and 7 waiting: 5 jobs unpaid.
    assert_eq!(c.cancel_batch(b1), Ok(10));
    assert_eq!(c.queue(), (0, 2, 3, 4), "node 5 no longer counts as fresh");
    assert_eq!(c.batch(b1).unwrap().fresh_nodes, 1, "still listed");
    // Leaf 3's proof completes nothing now: node 6 never becomes fresh.
    let v = c.verdict(l[2].request, 1, Verdict::Valid, 2);
    assert_eq!(
        v,
        VerdictOutcome::Judged {
            completed: false,
            paid: 0,
            slashed: 0,
            handed: None,
        }
    );
    assert_eq!(c.job_status(6), JobStatus::Waiting);
    // clearCancelled takes the cancelled pending jobs off the list; others stay.
    assert_eq!(c.clear_cancelled(&[]), None);
    assert_eq!(c.clear_cancelled(&[3, 99]), Some(1));
    assert_eq!(c.queue(), (0, 1, 4, 4));
    // A lease that meets node 5 drops it, and leaf 4 at the pending head, and keeps both
    // with nothing to lease.
    assert_eq!(c.lease(2, 1, 3), Err(LeaseError::ClearedOnly));
    assert_eq!(c.job_status(5), JobStatus::Cleared);
    assert_eq!(c.job_status(4), JobStatus::Cleared);
    assert_eq!(c.totals().nodes_dropped, 1);
    assert_eq!(c.prover(1).active, 0);
    c.post_batch(1, 2).unwrap(); // job 8
    assert_eq!(jobs(&c.lease(2, 1, 4)), [8]);
    assert_eq!(c.queue(), (0, 1, 8, 8));
    c.check_invariants().unwrap();
}

// ------------------------------------------------------------------ the engine

#[test]
fn table3_without_overheads_meets_the_lower_bound() {
    for (n, paper) in [(5u32, 37.11), (10, 19.18), (15, 12.98), (20, 9.12)] {
        let o = run(Scenario::ideal(100, n, Hardware::Cpu8));
        let bound = f64::from(100u32.div_ceil(n)) * 97.6;
        assert!(o.finished);
        assert!(
            (o.makespan_secs / bound - 1.0).abs() < 0.02,
            "{n} provers: {} s vs bound {bound} s",
            o.makespan_secs
        );
        // The paper measured 12-18% above the bound.
        assert!(paper * 60.0 > bound * 1.1);
    }
}

#[test]
fn the_fitted_overhead_closes_the_gap_to_the_papers_table3() {
    let r = paper::reproduce();
    assert!(
        (10.0..20.0).contains(&r.fitted_overhead),
        "overhead {}",
        r.fitted_overhead
    );
    for row in &r.table3 {
        assert!(row.sim_l2 > row.sim && row.sim_l2 < row.paper, "{row:?}");
    }
    // A fit checked on the points it was fitted on proves nothing: leave each measured point
    // out in turn, fit the overhead on the other three, and predict the one left out.
    let points: Vec<(u32, f64)> = paper::TABLE3_PROVERS
        .into_iter()
        .zip(paper::TABLE3_PAPER)
        .collect();
    for k in 0..points.len() {
        let mut rest = points.clone();
        let (provers, measured) = rest.remove(k);
        let predicted = paper::table3_minutes(provers, paper::fit_overhead(&rest));
        let diff = (predicted / measured - 1.0).abs();
        assert!(
            diff < 0.05,
            "{provers} provers, held out: predicted {predicted:.2} min, measured {measured:.2}"
        );
    }
    // Table 2 without overheads is the paper's within the integrality of jobs per prover.
    for (_, cells) in &r.table2 {
        for c in cells {
            assert!(c.sim >= c.paper * 0.999 && c.sim <= c.paper * 1.06, "{c:?}");
            assert!(c.sim_l2 > c.sim, "chain latency costs time: {c:?}");
        }
    }
    for (hw, sim, paper) in &r.breakeven {
        assert!(
            sim >= paper && f64::from(*sim) <= f64::from(*paper) * 1.05,
            "{hw:?}: {sim} vs {paper}"
        );
    }
    let macbook = r
        .jobs_per_day
        .iter()
        .find(|(h, _)| *h == Hardware::MacBook)
        .unwrap()
        .1;
    assert!(
        (macbook - 1_781.0).abs() < 10.0,
        "MacBook jobs/day {macbook}"
    );
}

#[test]
fn runs_are_repeatable_by_seed() {
    let mut sc = compare::scenario(
        compare::Setup {
            jobs: 64,
            provers: 16,
            seeds: 1,
        },
        Policy::Lrp,
        Some((FaultKind::Hoarder, Strike::Start)),
        0.2,
        false,
        9,
    );
    let a = run(sc.clone());
    let b = run(sc.clone());
    assert_eq!(
        (a.makespan_secs, a.reassignments, a.paid),
        (b.makespan_secs, b.reassignments, b.paid)
    );
    sc.seed = 10;
    let c = run(sc);
    assert_ne!(
        a.makespan_secs, c.makespan_secs,
        "another seed, another run"
    );
}

#[test]
fn a_late_hoarder_costs_the_timeout_policy_more_than_lrp() {
    let setup = compare::Setup {
        jobs: 256,
        provers: 40,
        seeds: 1,
    };
    let m = |policy| {
        let o = run(compare::scenario(
            setup,
            policy,
            Some((FaultKind::Hoarder, Strike::LATE)),
            0.2,
            false,
            1,
        ));
        assert!(o.finished, "{policy:?}");
        o.makespan_secs
    };
    let (lrp, timeout) = (m(Policy::Lrp), m(Policy::ZKSYNC));
    assert!(timeout > lrp + 600.0, "timeout {timeout} s vs LRP {lrp} s");
}

#[test]
fn a_one_shot_hoarder_costs_the_timeout_little_at_the_start_and_most_as_fresh_jobs_run_out() {
    let setup = compare::Setup {
        jobs: 256,
        provers: 40,
        seeds: 1,
    };
    // The timeout's cost: its makespan over LRP's under the same fault (both lose the same
    // capacity).
    let cost = |strike| {
        let m = |policy| {
            let o = run(compare::scenario(
                setup,
                policy,
                Some((FaultKind::HoardOnce, strike)),
                0.2,
                false,
                1,
            ));
            assert!(o.finished);
            o.makespan_secs
        };
        m(Policy::ZKSYNC) - m(Policy::Lrp)
    };
    let (start, late) = (cost(Strike::Start), cost(Strike::LATE));
    assert!(start < 150.0, "at the start: {start} s");
    // Late it costs more than twice as much (282 s against 104 s with submitAndLease clients;
    // 300 against 120 before).
    assert!(
        late > 2.0 * start && late > start + 150.0,
        "late: {late} s, at the start: {start} s"
    );
}

#[test]
fn invalid_provers_are_slashed_and_never_paid() {
    let setup = compare::Setup {
        jobs: 128,
        provers: 20,
        seeds: 1,
    };
    let o = run(compare::scenario(
        setup,
        Policy::Lrp,
        Some((FaultKind::Invalid, Strike::Start)),
        0.2,
        false,
        3,
    ));
    assert!(o.finished);
    assert_eq!(o.paid_to_faulty, 0);
    // Four invalid provers, bond for 4 leases each (40), slashed 5 per proof until below the
    // minimum bond of 10: 7 slashes each.
    assert_eq!(o.slashed, 4 * 35);
}

#[test]
fn a_cancelled_batch_stops_paying() {
    let mut sc = Scenario::ideal(50, 5, Hardware::Seconds(10.0));
    sc.cancel_at_secs = Some(35.0);
    let (o, sim) = crowdprove_sim::Sim::new(sc).run();
    assert!(!o.finished);
    let t = sim.model().totals();
    assert_eq!(t.paid + t.refunded, t.escrowed);
    assert!(t.paid > 0 && t.refunded > 0);
    sim.model().check_invariants().unwrap();
}

#[test]
fn simulates_the_papers_network_fast() {
    // Speed is measured by `make sim`; this only checks the big run completes and counts.
    let o = run(Scenario::ideal(17_188, 3_000, Hardware::Cpu8));
    assert!(o.finished);
    assert_eq!(o.jobs_completed, 17_188);
    assert!(o.events > 17_188 * 3);
}

// ------------------------------------------------------------------ properties

fn arb_scenario() -> impl Strategy<Value = Scenario> {
    let kinds = prop::sample::select(FaultKind::ALL.to_vec());
    let strike = prop_oneof![
        Just(Strike::Start),
        (0.0f64..300.0).prop_map(Strike::AtSecs),
        (0.0f64..1.0).prop_map(Strike::FreshLeased)
    ];
    let policy = prop_oneof![
        Just(Policy::Lrp),
        (0u64..120).prop_map(|secs| Policy::LrpMinAge { secs }),
        (30u64..300).prop_map(|secs| Policy::Timeout {
            secs,
            max_attempts: 1 << 20
        }),
    ];
    (
        1u32..60,
        any::<bool>(),
        policy,
        1u32..6,
        0.0f64..0.5,
        1u32..4,
        prop::collection::vec((1u32..4, kinds, strike, 1u32..4), 0..4),
        any::<u64>(),
        prop_oneof![Just(0.0), Just(1.0), Just(2.0)],
        (
            prop::option::of(0u64..200),
            prop::option::of(50u32..300),
            any::<bool>(),
            any::<bool>(),
            0u32..4,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(
                |(
                    stale_age,
                    adaptive_pct,
                    idle_only,
                    leaves_first,
                    spare_attempts,
                    lapse,
                    stale_first,
                    lapsed_off_critical,
                )| Rules {
                    stale_age,
                    adaptive_pct,
                    idle_only,
                    leaves_first,
                    spare_attempts,
                    lapse,
                    stale_first,
                    lapsed_off_critical,
                },
            ),
        (1u32..4, prop_oneof![Just(0.0), 0.0f64..200.0]),
    )
        .prop_map(
            |(
                jobs,
                aggregation,
                policy,
                honest,
                cv,
                honest_bond,
                faulty,
                seed,
                block,
                rules,
                (batches, batch_interval_secs),
            )| {
                let mut provers = vec![ProverGroup {
                    count: honest,
                    hardware: Hardware::Seconds(20.0),
                    cv,
                    bond_leases: honest_bond,
                    fault: None,
                    join_secs: 0.0,
                }];
                for (count, kind, strike, bond_leases) in faulty {
                    provers.push(ProverGroup {
                        count,
                        hardware: Hardware::Seconds(20.0),
                        cv,
                        bond_leases,
                        fault: Some(Fault { kind, strike }),
                        join_secs: 0.0,
                    });
                }
                Scenario {
                    name: "prop".into(),
                    seed,
                    jobs,
                    batches,
                    batch_interval_secs,
                    aggregation,
                    policy,
                    rules,
                    timing: Timing {
                        block_secs: block,
                        poll_secs: 3.0,
                        offline_secs: 60.0,
                        ..Timing::default()
                    },
                    economics: Default::default(),
                    cancel_at_secs: None,
                    max_secs: 4.0 * 86_400.0,
                    provers,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// With at least one honest prover every job completes, each is paid once, and the
    /// model's invariants hold at the end.
    #[test]
    fn every_job_completes_once_with_one_honest_prover(sc in arb_scenario()) {
        sc.validate().unwrap();
        let reward = u128::from(sc.economics.reward);
        let (o, sim) = crowdprove_sim::Sim::new(sc).run();
        prop_assert!(o.finished, "unfinished: {o:?}");
        prop_assert_eq!(o.jobs_completed, o.jobs_posted);
        prop_assert_eq!(o.paid, u128::from(o.jobs_completed as u32) * reward);
        let t = sim.model().totals();
        prop_assert_eq!(t.paid, t.escrowed);
        prop_assert!(sim.model().check_invariants().is_ok(), "{:?}", sim.model().check_invariants());
    }

    /// Random calls straight on the model (trees of 1 to 3 leaves, so nodes become fresh and
    /// cancelled ones are dropped) keep its invariants and never pay more than escrow.
    #[test]
    fn random_calls_keep_the_models_invariants(ops in prop::collection::vec((0u8..6, 1u32..5, 0u64..40, 1u32..4), 1..200)) {
        let mut c = coord(Params { min_reassign_age: 5, ..PARAMS }, &[(1, 30), (2, 20), (3, 10), (4, 40)]);
        let mut now = 0;
        let mut leased = Vec::new();
        for (op, who, x, n) in ops {
            now += x % 7;
            match op {
                0 => { let _ = c.post_batch(n, 3); }
                1 => if let Ok(got) = c.lease(who, n, now) { leased.extend(got.into_iter().map(|l| (who, l.request, l.job))); },
                2 => if let Some(&(w, r, _)) = leased.get(x as usize % leased.len().max(1)) { let _ = c.submit(w, r, now); },
                3 => if let Some(&(w, r, _)) = leased.get(x as usize % leased.len().max(1)) {
                    let v = [Verdict::Valid, Verdict::Invalid, Verdict::Missing][n as usize % 3];
                    let _ = c.verdict(r, w, v, now + 60);
                },
                4 => { let _ = c.cancel_batch(1 + (x as u32 % c.batch_count().max(1))); }
                _ => { let _ = c.clear_cancelled(&(x..x + u64::from(n)).collect::<Vec<_>>()); }
            }
            prop_assert!(c.check_invariants().is_ok(), "{:?}", c.check_invariants());
        }
        let t = c.totals();
        prop_assert!(t.paid + t.refunded <= t.escrowed);
    }
}

// ------------------------------------------------------------------ input and traces

#[test]
fn the_example_scenarios_parse_and_bad_ones_say_why() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        Scenario::from_toml(&text).unwrap();
        n += 1;
    }
    assert!(n >= 3);
    let err = |t: &str| format!("{:#}", Scenario::from_toml(t).unwrap_err());
    let ok = "jobs = 10\n[[provers]]\ncount = 2\nhardware = \"gpu\"\n";
    Scenario::from_toml(ok).unwrap();
    assert!(err("jobs = 10\nprovers = []\n").contains("at least one prover group"));
    assert!(err(&format!("{ok}cv = -1.0\n")).contains("cv must be"));
    assert!(err(&ok.replace("gpu", "tpu")).contains("unknown variant"));
    assert!(err(&format!("colour = 1\n{ok}")).contains("unknown field"));
    assert!(err(&ok.replace("jobs = 10", "jobs = 0")).contains("jobs must be at least 1"));
    assert!(
        err(&format!(
            "policy = {{ kind = \"timeout\", secs = 600, max_attempts = 0 }}\n{ok}"
        ))
        .contains("max_attempts")
    );
}

#[test]
fn the_differential_traces_exercise_the_stale_age_and_idle_only() {
    // The replay ties the contract's stale age to the model's only if a trace takes a stale job
    // ahead of fresh leaves: recorded without the stale age, the min-age trace must differ.
    let record = |sc: Scenario| {
        let (_, sim) = crowdprove_sim::Sim::new(sc).with_trace().run();
        sim.trace().unwrap().to_hex()
    };
    let sc = trace::differential_scenarios()
        .into_iter()
        .find(|s| s.name == "min-age")
        .unwrap();
    assert!(sc.rules.stale_age.is_some());
    let mut without = sc.clone();
    without.rules.stale_age = None;
    assert_ne!(
        record(sc.clone()),
        record(without),
        "the stale age never applied"
    );
    let mut busy = sc.clone();
    busy.rules.stale_age = None;
    let mut any = busy.clone();
    any.rules.idle_only = false;
    let (_, a) = crowdprove_sim::Sim::new(busy).run();
    let (_, b) = crowdprove_sim::Sim::new(any).run();
    assert_ne!(
        a.model().totals().reassignments,
        b.model().totals().reassignments,
        "idle-only never applied"
    );
}

#[test]
fn the_differential_traces_exercise_the_tree_on_chain() {
    let mut all = trace::Coverage::default();
    for sc in trace::differential_scenarios() {
        let (_, sim) = crowdprove_sim::Sim::new(sc).with_trace().run();
        let c = sim.coverage();
        all.nodes_readied += c.nodes_readied;
        all.single_child_readied += c.single_child_readied;
        all.nodes_dropped += c.nodes_dropped;
        all.cancelled_mid_tree += c.cancelled_mid_tree;
        all.stale_takeovers += c.stale_takeovers;
        all.stale_top_takeovers += c.stale_top_takeovers;
        all.older_nodes_first += c.older_nodes_first;
        all.spares += c.spares;
        all.lapsed_spares += c.lapsed_spares;
        all.refused_late += c.refused_late;
        all.releases += c.releases;
        all.released_taken += c.released_taken;
        all.handoffs += c.handoffs;
        all.cleared_only += c.cleared_only;
        all.lapsed_refused += c.lapsed_refused;
        all.lapsed_unheld += c.lapsed_unheld;
        all.lapsed_overdue += c.lapsed_overdue;
    }
    // Nodes made fresh by their last child's verdict (single-child ones too), an older tree's
    // nodes leased before later leaves, a tree cancelled part-proven whose fresh node a lease
    // dropped, a stale pending job (a tree's top among them) taken ahead of fresh leaves.
    assert!(all.nodes_readied >= 50, "{all:?}");
    assert!(all.single_child_readied >= 5, "{all:?}");
    assert!(all.older_nodes_first >= 5, "{all:?}");
    assert!(all.cancelled_mid_tree >= 1, "{all:?}");
    assert!(all.nodes_dropped >= 1, "{all:?}");
    assert!(all.stale_takeovers >= 3, "{all:?}");
    assert!(all.stale_top_takeovers >= 1, "{all:?}");
    // Spares under the minimum age, some of them of a lapsed holder's job past spareAttempts.
    assert!(all.spares >= 5, "{all:?}");
    assert!(all.lapsed_spares >= 1, "{all:?}");
    // A handed-on lease whose submission the bond no longer backs (slash evasion refused).
    assert!(all.refused_late >= 1, "{all:?}");
    // Leases a leaving prover gave back, and their jobs leased again at once.
    assert!(all.releases >= 2, "{all:?}");
    assert!(all.released_taken >= 1, "{all:?}");
    // Nodes handed to the prover whose submitAndLease found nothing, with the readying verdict.
    assert!(all.handoffs >= 5, "{all:?}");
    // A lease that only cleared cancelled jobs, and kept the clearing.
    assert!(all.cleared_only >= 1, "{all:?}");
    // A lapsed prover refused a job someone holds, and given one nobody holds.
    assert!(all.lapsed_refused >= 1, "{all:?}");
    assert!(all.lapsed_unheld >= 1, "{all:?}");
    // ...and one held past twice the stale age, which nobody in good standing took.
    assert!(all.lapsed_overdue >= 1, "{all:?}");
}

#[test]
fn committed_traces_are_what_the_model_records_now() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts/test/traces");
    for sc in trace::differential_scenarios() {
        let name = sc.name.clone();
        let (_, sim) = crowdprove_sim::Sim::new(sc).with_trace().run();
        let hex = sim.trace().unwrap().to_hex();
        let committed = std::fs::read_to_string(dir.join(format!("{name}.hex"))).unwrap();
        assert!(
            committed == hex,
            "contracts/test/traces/{name}.hex is stale: run `make sim-traces`"
        );
        sim.model().check_invariants().unwrap();
    }
}

#[test]
fn a_lease_keeps_what_it_cleared_so_many_cancelled_jobs_block_no_reassignment() {
    let mut c = coord(PARAMS, &[(1, 120), (2, 10), (3, 10)]);
    let a = c.post_batch(12, 1).unwrap(); // leaves 1-12
    c.lease(1, 12, 0).unwrap();
    c.post_batch(1, 1).unwrap(); // job 25 (the tree over 12 leaves has 24 jobs)
    assert_eq!(jobs(&c.lease(2, 1, 0)), [25]);
    c.cancel_batch(a).unwrap();
    assert_eq!(
        c.lease(3, 1, 1),
        Err(LeaseError::ClearedOnly),
        "clears 8 and leases nothing"
    );
    assert_eq!(c.prover(1).active, 4, "the 8 cleared stay cleared");
    assert_eq!(jobs(&c.lease(3, 1, 1)), [25], "then gets past the other 4");
    assert_eq!(c.prover(1).active, 0);
    c.check_invariants().unwrap();
}
