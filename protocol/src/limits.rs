//! The Coordinator's constants, as Rust sees them. The simulator models the contract with
//! these, the relayer and the client size their calls with them; a test reads them back from
//! `contracts/Coordinator.sol` and `contracts/CoordinatorState.sol` so the two cannot drift apart.

/// Most jobs one batch may hold.
pub const MAX_JOBS_PER_BATCH: u64 = 1 << 20;
/// Most jobs one `leaseMany` call may lease.
pub const MAX_LEASES_PER_CALL: u32 = 16;
/// Most entries of one `recordVerdicts` call.
pub const MAX_VERDICTS_PER_CALL: usize = 256;
/// Most entries of one `clearCancelled` call.
pub const MAX_CLEAR_PER_CALL: usize = 256;
/// Most cancelled jobs one lease clears from the pending list's head.
pub const MAX_CLEAR_PER_LEASE: usize = 8;
/// Most leases one prover may hold at once, whatever its bond (a uint16 in the prover's slot).
pub const MAX_ACTIVE_LEASES: u64 = 65_535;
/// Job ids stay at most this (2^32 - 1): the pending list's links are 32-bit in the job's slot.
pub const MAX_JOB_ID: u64 = (1 << 32) - 1;
/// Prover ids stay at most this (2^24 - 1): a job's holder is 24-bit in the job's slot.
pub const MAX_PROVERS: u64 = (1 << 24) - 1;
/// Upper bound of the minimum reassign age, seconds.
pub const MAX_MIN_REASSIGN_AGE: u64 = 86_400;
/// Lower bound of the upload deadline, seconds.
pub const MIN_UPLOAD_DEADLINE: u64 = 10;
/// Upper bound of the upload deadline, seconds.
pub const MAX_UPLOAD_DEADLINE: u64 = 86_400;
/// Upper bound of the settings' announcement delay, seconds.
pub const MAX_PARAM_DELAY: u64 = 30 * 86_400;
/// Lower bound of the verdict deadline, seconds.
pub const MIN_VERDICT_DEADLINE: u64 = 3_600;
/// Upper bound of the verdict deadline, seconds.
pub const MAX_VERDICT_DEADLINE: u64 = 30 * 86_400;
/// The verdict deadline at deployment, seconds: past the upload deadline and this, an
/// unjudged submission can be expired and its bond is free again.
pub const DEFAULT_VERDICT_DEADLINE: u64 = 2 * 86_400;
/// Most leases one job may have: the attempt part of a request id is 24 bits.
pub const MAX_ATTEMPTS: u64 = (1 << 24) - 1;
/// Upper bound of `spareAttempts`.
pub const MAX_SPARE_ATTEMPTS: u32 = 8;
/// `spareAttempts` at deployment: a job leased at most twice goes at once to an idle prover
/// that has not lapsed (two spare leases at most).
pub const DEFAULT_SPARE_ATTEMPTS: u32 = 2;

/// Most circuits (each its own queue on chain, a lane) one Coordinator serves.
pub const MAX_LANES: u64 = 255;

#[cfg(test)]
mod tests {
    use super::*;

    fn contract(name: &str) -> String {
        let path = format!("{}/../contracts/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Evaluates the constant expressions the contract uses: integers with `_`, `N days`,
    /// `a << b`, `a - b` and parentheses.
    fn eval(text: &str) -> u64 {
        let tokens: Vec<String> = text
            .replace('(', " ( ")
            .replace(')', " ) ")
            .replace("<<", " << ")
            .replace('-', " - ")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        fn term(t: &[String], i: &mut usize) -> u64 {
            let v = if t[*i] == "(" {
                *i += 1;
                let v = expr(t, i);
                assert_eq!(t[*i], ")");
                v
            } else {
                t[*i].replace('_', "").parse::<u64>().expect("a number")
            };
            *i += 1;
            let unit = match t.get(*i).map(String::as_str) {
                Some("days") => 86_400,
                Some("hours") => 3_600,
                _ => return v,
            };
            *i += 1;
            v * unit
        }
        fn expr(t: &[String], i: &mut usize) -> u64 {
            let mut v = term(t, i);
            while let Some(op) = t.get(*i).map(String::as_str) {
                match op {
                    "<<" => {
                        *i += 1;
                        v <<= term(t, i);
                    }
                    "-" => {
                        *i += 1;
                        v -= term(t, i);
                    }
                    _ => break,
                }
            }
            v
        }
        let mut i = 0;
        let v = expr(&tokens, &mut i);
        assert_eq!(i, tokens.len(), "unparsed tail in `{text}`");
        v
    }

    fn solidity_constant(source: &str, name: &str) -> u64 {
        let marker = format!("constant {name} = ");
        let at = source
            .find(&marker)
            .unwrap_or_else(|| panic!("{name} is not a constant of the Coordinator"));
        let rest = &source[at + marker.len()..];
        eval(&rest[..rest.find(';').expect("a statement ends")])
    }

    #[test]
    fn constants_match_the_contract() {
        // The Coordinator's own constants and those its storage helpers share with the views.
        let src = contract("Coordinator.sol") + &contract("CoordinatorState.sol");
        let ours: [(&str, u64); 19] = [
            ("MAX_JOBS_PER_BATCH", MAX_JOBS_PER_BATCH),
            ("MAX_LEASES_PER_CALL", MAX_LEASES_PER_CALL.into()),
            ("MAX_VERDICTS_PER_CALL", MAX_VERDICTS_PER_CALL as u64),
            ("MAX_CLEAR_PER_CALL", MAX_CLEAR_PER_CALL as u64),
            ("MAX_CLEAR_PER_LEASE", MAX_CLEAR_PER_LEASE as u64),
            ("MAX_ACTIVE_LEASES", MAX_ACTIVE_LEASES),
            ("MAX_JOB_ID", MAX_JOB_ID),
            ("MAX_PROVERS", MAX_PROVERS),
            ("MAX_MIN_REASSIGN_AGE", MAX_MIN_REASSIGN_AGE),
            ("MIN_UPLOAD_DEADLINE", MIN_UPLOAD_DEADLINE),
            ("MAX_UPLOAD_DEADLINE", MAX_UPLOAD_DEADLINE),
            ("MAX_PARAM_DELAY", MAX_PARAM_DELAY),
            ("MIN_VERDICT_DEADLINE", MIN_VERDICT_DEADLINE),
            ("MAX_VERDICT_DEADLINE", MAX_VERDICT_DEADLINE),
            ("DEFAULT_VERDICT_DEADLINE", DEFAULT_VERDICT_DEADLINE),
            ("MAX_ATTEMPTS", MAX_ATTEMPTS),
            ("MAX_SPARE_ATTEMPTS", MAX_SPARE_ATTEMPTS.into()),
            ("DEFAULT_SPARE_ATTEMPTS", DEFAULT_SPARE_ATTEMPTS.into()),
            ("MAX_LANES", MAX_LANES),
        ];
        for (name, value) in ours {
            assert_eq!(solidity_constant(&src, name), value, "{name}");
        }
        // Public or internal: the limits an outside caller must know are here either way
        // (private constants are the contract's own bookkeeping).
        let declared =
            src.matches(" public constant ").count() + src.matches(" internal constant ").count();
        assert_eq!(declared, ours.len(), "a contract constant has no Rust twin");
    }

    #[test]
    fn enums_match_the_interface() {
        use crate::{JobStatus, LeaseState, Verdict};
        let src = contract("ICoordinator.sol");
        let members = |name: &str| -> Vec<String> {
            let at = src.find(&format!("enum {name} {{")).expect("the enum") + name.len() + 7;
            let body = &src[at..at + src[at..].find('}').expect("its end")];
            body.split(',').map(|m| m.trim().to_string()).collect()
        };
        let names = |all: &[&str]| all.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            members("JobStatus"),
            names(&JobStatus::ALL.iter().map(|k| k.name()).collect::<Vec<_>>())
        );
        assert_eq!(
            members("LeaseState"),
            names(&LeaseState::ALL.iter().map(|k| k.name()).collect::<Vec<_>>())
        );
        let mut verdicts = vec!["None"];
        verdicts.extend(Verdict::ALL.iter().map(|v| v.name()));
        assert_eq!(
            members("VerdictResult"),
            names(&verdicts),
            "Verdict leaves out None, code 0"
        );
        for (i, v) in Verdict::ALL.iter().enumerate() {
            assert_eq!(*v as usize, i + 1);
        }
    }
}
