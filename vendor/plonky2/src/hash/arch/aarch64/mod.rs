#[cfg(target_feature = "neon")]
pub(crate) mod poseidon_goldilocks_neon;
