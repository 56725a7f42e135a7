//! Command-line options for reaching the chain as one party (feature `cli`): the RPC endpoint,
//! the signing key (raw or from an encrypted keystore) and the Coordinator's address. The
//! relayer and the prover client flatten the same [`ChainOpts`], each with its own flag and
//! environment names for the key ([`Role`]), so both read and check them the same way and a
//! missing or wrong value gets one line that names the flag and the fix.

use std::fmt;
use std::marker::PhantomData;
use std::path::PathBuf;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};

/// The default JSON-RPC endpoint: a local anvil.
pub const DEFAULT_RPC_URL: &str = "http://127.0.0.1:8545";

/// Who signs: names the key's flag and environment variables.
pub trait Role: Send + Sync + 'static {
    /// What the key is called in messages ("prover", "relayer").
    const NAME: &'static str;
    /// The raw key's flag, without dashes.
    const KEY_FLAG: &'static str;
    /// The raw key's environment variable.
    const KEY_ENV: &'static str;
    /// The keystore's environment variable.
    const KEYSTORE_ENV: &'static str;
}

/// The prover client's key: `--private-key` / `PROVER_KEY`, `--keystore` / `PROVER_KEYSTORE`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Prover;

impl Role for Prover {
    const NAME: &'static str = "prover";
    const KEY_FLAG: &'static str = "private-key";
    const KEY_ENV: &'static str = "PROVER_KEY";
    const KEYSTORE_ENV: &'static str = "PROVER_KEYSTORE";
}

/// The relayer's key: `--relayer-key` / `RELAYER_KEY`, `--keystore` / `RELAYER_KEYSTORE`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Relayer;

impl Role for Relayer {
    const NAME: &'static str = "relayer";
    const KEY_FLAG: &'static str = "relayer-key";
    const KEY_ENV: &'static str = "RELAYER_KEY";
    const KEYSTORE_ENV: &'static str = "RELAYER_KEYSTORE";
}

/// A chain option that is missing or wrong.
#[derive(Debug, thiserror::Error)]
pub enum OptsError {
    /// Neither a key nor a keystore.
    #[error(
        "no {who} key: set --keystore <file> ({keystore_env}) or --{flag} <hex> ({env}), e.g. in a .env file"
    )]
    NoKey {
        /// The role.
        who: &'static str,
        /// The key's flag.
        flag: &'static str,
        /// The key's variable.
        env: &'static str,
        /// The keystore's variable.
        keystore_env: &'static str,
    },
    /// Both a key and a keystore.
    #[error("both --{flag} ({env}) and --keystore ({keystore_env}) are set: keep one")]
    BothKeys {
        /// The key's flag.
        flag: &'static str,
        /// The key's variable.
        env: &'static str,
        /// The keystore's variable.
        keystore_env: &'static str,
    },
    /// The raw key does not parse.
    #[error("--{flag} ({env}) is not a 32-byte hex private key")]
    BadKey {
        /// The key's flag.
        flag: &'static str,
        /// The key's variable.
        env: &'static str,
    },
    /// The keystore cannot be opened.
    #[error("cannot open keystore {path}: {why} (wrong password or not a keystore file?)")]
    Keystore {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// No Coordinator address.
    #[error(
        "no Coordinator address: set --coordinator <address> (COORDINATOR); the deploy script prints it"
    )]
    NoCoordinator,
    /// The Coordinator address does not parse.
    #[error("--coordinator (COORDINATOR) `{0}` is not an address")]
    BadCoordinator(String),
}

/// How to reach the chain and who signs, for role `R`. Parsed by clap (see the module doc) or
/// built in code with [`ChainOpts::new`].
pub struct ChainOpts<R: Role> {
    /// JSON-RPC endpoint of the chain.
    pub rpc_url: String,
    /// The raw private key (hex); prefer a keystore. Never shown.
    pub private_key: Option<String>,
    /// An encrypted keystore file (as `cast wallet new` writes).
    pub keystore: Option<PathBuf>,
    /// The keystore's password (asked for on the terminal if absent). Never shown.
    pub keystore_password: Option<String>,
    /// The Coordinator's address.
    pub coordinator: Option<String>,
    /// The flag of a secret given on the command line, where every user of the machine can
    /// read it (`ps`, /proc); parsing warns about it.
    pub secret_on_command_line: Option<&'static str>,
    role: PhantomData<R>,
}

impl<R: Role> ChainOpts<R> {
    /// Options for `rpc_url`, signing with `key`, talking to `coordinator` (tests, devnets).
    pub fn new(rpc_url: impl Into<String>, key: &PrivateKeySigner, coordinator: Address) -> Self {
        ChainOpts {
            rpc_url: rpc_url.into(),
            private_key: Some(format!("0x{}", alloy::hex::encode(key.to_bytes()))),
            keystore: None,
            keystore_password: None,
            coordinator: Some(coordinator.to_string()),
            secret_on_command_line: None,
            role: PhantomData,
        }
    }

    /// The signer named by the key or the keystore (prompting for its password if needed).
    pub fn signer(&self) -> Result<PrivateKeySigner, OptsError> {
        match (&self.private_key, &self.keystore) {
            (Some(_), Some(_)) => Err(OptsError::BothKeys {
                flag: R::KEY_FLAG,
                env: R::KEY_ENV,
                keystore_env: R::KEYSTORE_ENV,
            }),
            (None, None) => Err(OptsError::NoKey {
                who: R::NAME,
                flag: R::KEY_FLAG,
                env: R::KEY_ENV,
                keystore_env: R::KEYSTORE_ENV,
            }),
            (Some(key), None) => key.trim().parse().map_err(|_| OptsError::BadKey {
                flag: R::KEY_FLAG,
                env: R::KEY_ENV,
            }),
            (None, Some(path)) => {
                let keystore = |why: String| OptsError::Keystore {
                    path: path.clone(),
                    why,
                };
                let password = match &self.keystore_password {
                    Some(p) => p.clone(),
                    None => {
                        rpassword::prompt_password(format!("password for {}: ", path.display()))
                            .map_err(|e| {
                                keystore(format!(
                                    "reading its password (or set KEYSTORE_PASSWORD): {e}"
                                ))
                            })?
                    }
                };
                PrivateKeySigner::decrypt_keystore(path, password)
                    .map_err(|e| keystore(e.to_string()))
            }
        }
    }

    /// The Coordinator's address.
    pub fn coordinator_address(&self) -> Result<Address, OptsError> {
        let raw = self
            .coordinator
            .as_deref()
            .ok_or(OptsError::NoCoordinator)?;
        raw.trim()
            .parse()
            .map_err(|_| OptsError::BadCoordinator(raw.to_string()))
    }
}

impl<R: Role> Clone for ChainOpts<R> {
    fn clone(&self) -> Self {
        ChainOpts {
            rpc_url: self.rpc_url.clone(),
            private_key: self.private_key.clone(),
            keystore: self.keystore.clone(),
            keystore_password: self.keystore_password.clone(),
            coordinator: self.coordinator.clone(),
            secret_on_command_line: self.secret_on_command_line,
            role: PhantomData,
        }
    }
}

impl<R: Role> fmt::Debug for ChainOpts<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainOpts")
            .field("rpc_url", &self.rpc_url)
            .field(
                "private_key",
                &self.private_key.as_ref().map(|_| "<hidden>"),
            )
            .field("keystore", &self.keystore)
            .field("coordinator", &self.coordinator)
            .finish()
    }
}

// Written by hand rather than derived: the key's flag and variables depend on `R`, and the
// derive only takes literals.
impl<R: Role> Args for ChainOpts<R> {
    fn augment_args(cmd: Command) -> Command {
        cmd.next_help_heading("Chain")
            .arg(
                Arg::new("rpc_url")
                    .long("rpc-url")
                    .env("RPC_URL")
                    .value_name("URL")
                    .default_value(DEFAULT_RPC_URL)
                    .help("JSON-RPC endpoint of the chain"),
            )
            .arg(
                Arg::new("private_key")
                    .long(R::KEY_FLAG)
                    .env(R::KEY_ENV)
                    .value_name("HEX")
                    .hide_env_values(true)
                    .help(format!("The {}'s private key (hex). Prefer --keystore; never shown", R::NAME)),
            )
            .arg(
                Arg::new("keystore")
                    .long("keystore")
                    .env(R::KEYSTORE_ENV)
                    .value_name("FILE")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help("An encrypted keystore file (as `cast wallet new` writes) instead of a raw key"),
            )
            .arg(
                Arg::new("keystore_password")
                    .long("keystore-password")
                    .env("KEYSTORE_PASSWORD")
                    .value_name("PASSWORD")
                    .hide_env_values(true)
                    .help("The keystore's password (asked for on the terminal if absent)"),
            )
            .arg(
                Arg::new("coordinator")
                    .long("coordinator")
                    .env("COORDINATOR")
                    .value_name("ADDRESS")
                    .help("The Coordinator contract's address"),
            )
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<R: Role> FromArgMatches for ChainOpts<R> {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let text = |id: &str| m.get_one::<String>(id).cloned();
        let argv = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
        let secret_on_command_line = if argv("private_key") {
            Some(R::KEY_FLAG)
        } else if argv("keystore_password") {
            Some("keystore-password")
        } else {
            None
        };
        if let Some(flag) = secret_on_command_line {
            eprintln!(
                "warning: --{flag} on the command line can be read by every user of this machine (ps, /proc): set {} in the environment or a .env file, or use --keystore and type its password",
                if flag == R::KEY_FLAG {
                    R::KEY_ENV
                } else {
                    "KEYSTORE_PASSWORD"
                }
            );
        }
        Ok(ChainOpts {
            secret_on_command_line,
            rpc_url: text("rpc_url").unwrap_or_else(|| DEFAULT_RPC_URL.to_string()),
            private_key: text("private_key"),
            keystore: m.get_one::<PathBuf>("keystore").cloned(),
            keystore_password: text("keystore_password"),
            coordinator: text("coordinator"),
            role: PhantomData,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        chain: ChainOpts<Relayer>,
    }

    const KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn each_role_has_its_own_key_flag_and_a_clear_error() {
        let cli = Cli::try_parse_from([
            "x",
            "--relayer-key",
            KEY,
            "--coordinator",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3",
        ])
        .unwrap();
        assert_eq!(
            cli.chain.signer().unwrap().address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
        assert!(cli.chain.coordinator_address().is_ok());
        assert!(
            !format!("{:?}", cli.chain).contains(&KEY[2..]),
            "the key never shows"
        );
        assert_eq!(
            cli.chain.secret_on_command_line,
            Some("relayer-key"),
            "a key on the command line is noticed (and warned about)"
        );
        assert!(
            Cli::try_parse_from(["x", "--private-key", KEY]).is_err(),
            "the relayer's flag is --relayer-key"
        );
        let none = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(none.chain.secret_on_command_line, None);
        assert_eq!(
            none.chain.signer().unwrap_err().to_string(),
            "no relayer key: set --keystore <file> (RELAYER_KEYSTORE) or --relayer-key <hex> (RELAYER_KEY), e.g. in a .env file"
        );
        assert!(matches!(
            none.chain.coordinator_address(),
            Err(OptsError::NoCoordinator)
        ));
        let bad =
            Cli::try_parse_from(["x", "--relayer-key", "0x12", "--coordinator", "nope"]).unwrap();
        assert!(matches!(bad.chain.signer(), Err(OptsError::BadKey { .. })));
        assert!(matches!(
            bad.chain.coordinator_address(),
            Err(OptsError::BadCoordinator(_))
        ));
        let opts: ChainOpts<Prover> =
            ChainOpts::new("http://x", &KEY.parse().unwrap(), Address::ZERO);
        assert_eq!(
            opts.signer().unwrap().address(),
            cli.chain.signer().unwrap().address()
        );
    }
}
