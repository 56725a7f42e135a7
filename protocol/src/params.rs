//! Parameter sets: how big a round-0 job is.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A named parameter set. Every party derives the same circuits from the same set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamSet {
    /// For tests: a chunk proves in about a second on 2 cores.
    Small,
    /// For the demo: a chunk proves in a few seconds.
    Default,
    /// A round-0 job of about 2^17 rows, of the order of zkSync's jobs in the paper.
    Paper,
}

/// The sizes a parameter set fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// The set these sizes belong to.
    pub set: ParamSet,
    /// Depth of the account tree: 2^depth accounts.
    pub tree_depth: usize,
    /// Transfer slots per chunk (one chunk is one round-0 job).
    pub transfers_per_chunk: usize,
    /// Accounts funded at genesis by the demo sequencer.
    pub funded_accounts: u64,
}

impl ParamSet {
    /// All sets, smallest first.
    pub const ALL: [ParamSet; 3] = [ParamSet::Small, ParamSet::Default, ParamSet::Paper];

    /// The sizes of this set.
    pub const fn params(self) -> Params {
        match self {
            ParamSet::Small => Params {
                set: self,
                tree_depth: 8,
                transfers_per_chunk: 64,
                funded_accounts: 64,
            },
            // As many transfers as fill the chunk circuit's power-of-two rows, less a margin:
            // proving time follows the rows, so a chunk's rows are best all used. 228 take
            // 16,178 of 2^14 rows (192 took 13,625: 16% more proving time per transfer,
            // docs/results/circuits.md); 231 would need 2^15.
            ParamSet::Default => Params {
                set: self,
                tree_depth: 16,
                transfers_per_chunk: 228,
                funded_accounts: 1024,
            },
            // The same: 1,500 take about 130,400 of 2^17 rows (1,344 took 116,834).
            ParamSet::Paper => Params {
                set: self,
                tree_depth: 20,
                transfers_per_chunk: 1500,
                funded_accounts: 4096,
            },
        }
    }

    /// The byte that names this set in proof and witness headers.
    pub const fn id(self) -> u8 {
        match self {
            ParamSet::Small => 1,
            ParamSet::Default => 2,
            ParamSet::Paper => 3,
        }
    }

    /// The set named by a header byte.
    pub const fn from_id(id: u8) -> Option<ParamSet> {
        match id {
            1 => Some(ParamSet::Small),
            2 => Some(ParamSet::Default),
            3 => Some(ParamSet::Paper),
            _ => None,
        }
    }

    /// The lowercase name used on command lines.
    pub const fn name(self) -> &'static str {
        match self {
            ParamSet::Small => "small",
            ParamSet::Default => "default",
            ParamSet::Paper => "paper",
        }
    }
}

impl fmt::Display for ParamSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A parameter-set name that is not one of ours.
#[derive(Debug, thiserror::Error)]
#[error("unknown parameter set `{0}`: expected small, default or paper")]
pub struct UnknownParamSet(pub String);

impl FromStr for ParamSet {
    type Err = UnknownParamSet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "small" => Ok(ParamSet::Small),
            "default" => Ok(ParamSet::Default),
            "paper" => Ok(ParamSet::Paper),
            other => Err(UnknownParamSet(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids_round_trip() {
        for set in ParamSet::ALL {
            assert_eq!(set.name().parse::<ParamSet>().unwrap(), set);
            assert_eq!(ParamSet::from_id(set.id()), Some(set));
            assert_eq!(set.params().set, set);
        }
        assert!("huge".parse::<ParamSet>().is_err());
        for set in ParamSet::ALL {
            let json = serde_json::to_string(&set).unwrap();
            assert_eq!(
                json,
                format!("\"{}\"", set.name()),
                "JSON uses the command-line name"
            );
        }
        assert_eq!(ParamSet::from_id(0), None);
    }

    #[test]
    fn funded_accounts_fit_the_tree() {
        for set in ParamSet::ALL {
            let p = set.params();
            assert!(p.funded_accounts <= 1 << p.tree_depth);
        }
    }
}
