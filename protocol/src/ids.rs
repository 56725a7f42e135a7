//! The Coordinator's numbered vocabulary: request ids and the enums it stores as `uint8`.
//! Each conversion from the chain's number is written here once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::limits::MAX_ATTEMPTS;

/// A number that names no member of one of the contract's enums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code} is not a {what}")]
pub struct BadCode {
    /// The enum it was read as.
    pub what: &'static str,
    /// The number.
    pub code: u8,
}

/// Declares an enum numbered as the contract numbers it, with `TryFrom<u8>`, `From<Self> for
/// u8`, `ALL` (in contract order) and `name()` (the Solidity member's name).
macro_rules! contract_enum {
    ($(#[$meta:meta])* $name:ident as $sol:literal { $($(#[$vm:meta])* $v:ident = $n:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v = $n,)+ }

        impl $name {
            /// Every member, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$v,)+];

            /// The member's name in the contract.
            pub const fn name(self) -> &'static str {
                match self { $($name::$v => stringify!($v),)+ }
            }
        }

        impl TryFrom<u8> for $name {
            type Error = BadCode;
            fn try_from(code: u8) -> Result<Self, BadCode> {
                match code {
                    $($n => Ok($name::$v),)+
                    _ => Err(BadCode { what: $sol, code }),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(v: $name) -> u8 {
                v as u8
            }
        }

        // On the wire a member is its contract number, as the chain's events carry it.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u8(*self as u8)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $name::try_from(u8::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

contract_enum! {
    /// The kind of a job, as its leaf commits to it: a batch's tree has both.
    JobKind as "JobKind" {
        /// A chunk of transfers.
        Round0 = 0,
        /// Child proofs joined into one.
        Aggregation = 1,
    }
}

impl JobKind {
    /// The kind of the jobs at tree level `level`: round-0 jobs are the leaves, every node
    /// above them aggregates.
    pub fn at_level(level: u8) -> JobKind {
        if level == 0 {
            JobKind::Round0
        } else {
            JobKind::Aggregation
        }
    }
}

contract_enum! {
    /// Life cycle of a job (`ICoordinator.JobStatus`).
    JobStatus as "JobStatus" {
        /// Never leased.
        Fresh = 0,
        /// Leased, not complete.
        Pending = 1,
        /// A valid proof completed it.
        Complete = 2,
        /// Cancelled and cleared.
        Cleared = 3,
        /// An aggregation node some of whose children are not complete yet.
        Waiting = 4,
    }
}

contract_enum! {
    /// Life cycle of a lease (`ICoordinator.LeaseState`).
    LeaseState as "LeaseState" {
        /// No such lease.
        None = 0,
        /// Leased, no proof submitted.
        Leased = 1,
        /// Proof hash submitted, awaiting a verdict.
        Submitted = 2,
        /// Judged valid.
        Valid = 3,
        /// Judged invalid (slashed).
        Invalid = 4,
        /// Bytes never uploaded.
        Missing = 5,
        /// Left unjudged past its verdict deadline and released: neither paid nor slashed.
        Expired = 6,
        /// Given back by its holder unsubmitted (`releaseLease`): neither paid nor slashed.
        Released = 7,
    }
}

contract_enum! {
    /// The relayer's judgement of a submitted proof (`ICoordinator.VerdictResult`, less its
    /// `None`, which no verdict carries).
    Verdict as "VerdictResult" {
        /// The proof verifies: the first completes the job.
        Valid = 1,
        /// The proof does not verify: the submitter is slashed.
        Invalid = 2,
        /// The bytes never arrived within the upload deadline: no slash.
        Missing = 3,
    }
}

impl LeaseState {
    /// The verdict a judged lease got; `None` while it is unjudged.
    pub fn verdict(self) -> Option<Verdict> {
        match self {
            LeaseState::Valid => Some(Verdict::Valid),
            LeaseState::Invalid => Some(Verdict::Invalid),
            LeaseState::Missing => Some(Verdict::Missing),
            LeaseState::None
            | LeaseState::Leased
            | LeaseState::Submitted
            | LeaseState::Expired
            | LeaseState::Released => None,
        }
    }
}

/// A lease's id as the contract forms it: `jobId << 24 | attempt`, so that a job's latest
/// lease can live in the job's own storage slot and an id says which job it leases.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RequestId(pub u64);

impl RequestId {
    /// Bits of the attempt number.
    pub const ATTEMPT_BITS: u32 = 24;

    /// The id of `job`'s `attempt`-th lease (attempts count from 1).
    pub const fn new(job: u64, attempt: u32) -> RequestId {
        RequestId((job << Self::ATTEMPT_BITS) | (attempt as u64 & MAX_ATTEMPTS))
    }

    /// The job it leases.
    pub const fn job(self) -> u64 {
        self.0 >> Self::ATTEMPT_BITS
    }

    /// Which lease of that job it is.
    pub const fn attempt(self) -> u32 {
        (self.0 & MAX_ATTEMPTS) as u32
    }
}

impl From<u64> for RequestId {
    fn from(raw: u64) -> RequestId {
        RequestId(raw)
    }
}

impl From<RequestId> for u64 {
    fn from(id: RequestId) -> u64 {
        id.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.job(), self.attempt())
    }
}

impl FromStr for RequestId {
    type Err = std::num::ParseIntError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(RequestId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_pack_as_the_contract_does() {
        let id = RequestId::new(5, 2);
        assert_eq!(id.0, (5 << 24) | 2);
        assert_eq!((id.job(), id.attempt()), (5, 2));
        assert_eq!(RequestId::new(1, 1).0, 16_777_217);
        let top = RequestId::new((1 << 40) - 1, MAX_ATTEMPTS as u32);
        assert_eq!(
            (top.job(), top.attempt()),
            ((1 << 40) - 1, MAX_ATTEMPTS as u32)
        );
        assert_eq!(format!("{id} {id:?}"), "83886082 5#2");
        assert_eq!("83886082".parse::<RequestId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), "83886082");
    }

    #[test]
    fn codes_round_trip_and_out_of_range_is_an_error() {
        for k in JobKind::ALL {
            assert_eq!(JobKind::try_from(u8::from(*k)), Ok(*k));
        }
        for s in LeaseState::ALL {
            assert_eq!(LeaseState::try_from(*s as u8), Ok(*s));
        }
        assert_eq!(
            Verdict::try_from(0),
            Err(BadCode {
                what: "VerdictResult",
                code: 0
            }),
            "no verdict is None"
        );
        assert_eq!(
            JobKind::try_from(2).unwrap_err().to_string(),
            "2 is not a JobKind"
        );
        assert_eq!(JobStatus::try_from(5).unwrap_err().code, 5);
        assert_eq!(LeaseState::Missing.verdict(), Some(Verdict::Missing));
        assert_eq!(LeaseState::Submitted.verdict(), None);
    }
}
