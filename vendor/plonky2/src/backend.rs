//! CrowdProve patch: a process-wide commit backend.
//!
//! Most of a proof's time goes into committing to polynomial batches (their low-degree
//! extensions and the Poseidon Merkle trees over them) and into FRI's Merkle trees. Upstream
//! plonky2 calls `PolynomialBatch::from_coeffs` and `MerkleTree::new` directly, with no way to
//! run them elsewhere. This module lets a program install a backend (a GPU, say) that takes
//! over those steps for the Goldilocks field and the Poseidon hash. A backend must return
//! exactly what the CPU code would; where it returns `None` the CPU code runs as upstream.

use std::cell::RefCell;
use std::sync::{Arc, RwLock};

use crate::field::goldilocks_field::GoldilocksField;
use crate::field::polynomial::PolynomialCoeffs;
use crate::hash::hash_types::HashOut;

/// The digests of a Merkle tree in `MerkleTree::digests`' layout, and its cap.
pub type TreeDigests = (Vec<HashOut<GoldilocksField>>, Vec<HashOut<GoldilocksField>>);

/// Runs the commitment steps of a proof: LDEs and Poseidon Merkle trees over Goldilocks.
pub trait CommitBackend: Send + Sync {
    /// The commitment `PolynomialBatch::from_coeffs` makes without blinding: the low-degree
    /// extension of each of `polynomials` (coefficients, all of one length `n`) onto the coset
    /// `GoldilocksField::coset_shift() * <w>` of size `n << rate_bits`; the leaves, leaf `i`
    /// holding every polynomial's value at the `reverse_bits(i)`-th point; and the Poseidon
    /// Merkle tree over them with a cap of height `cap_height`. `None` leaves it to the CPU.
    fn commit(
        &self,
        polynomials: &[PolynomialCoeffs<GoldilocksField>],
        rate_bits: usize,
        cap_height: usize,
    ) -> Option<(Vec<Vec<GoldilocksField>>, TreeDigests)>;

    /// The Poseidon Merkle tree over `leaves` (a power of two of them) with a cap of height
    /// `cap_height`, as `MerkleTree::<GoldilocksField, PoseidonHash>::new` builds it.
    /// `None` leaves the step to the CPU.
    fn merkle_tree(&self, leaves: &[Vec<GoldilocksField>], cap_height: usize)
        -> Option<TreeDigests>;
}

static BACKEND: RwLock<Option<Arc<dyn CommitBackend>>> = RwLock::new(None);

std::thread_local! {
    /// This thread's override of `BACKEND`, while `with_commit_backend` runs.
    static OVERRIDE: RefCell<Option<Option<Arc<dyn CommitBackend>>>> = const { RefCell::new(None) };
}

/// Whether `tree` has the shape of a tree of `leaves` leaves with a cap of height `cap_height`:
/// what the prover indexes later, so a backend that gets it wrong is not believed.
pub(crate) fn fits(tree: &TreeDigests, leaves: usize, cap_height: usize) -> bool {
    cap_height <= 63
        && leaves >= 1 << cap_height
        && tree.0.len() == 2 * (leaves - (1 << cap_height))
        && tree.1.len() == 1 << cap_height
}

/// Installs `backend` for every proof this process makes from now on (`None`: the CPU).
pub fn set_commit_backend(backend: Option<Arc<dyn CommitBackend>>) {
    *BACKEND.write().unwrap_or_else(|e| e.into_inner()) = backend;
}

/// Runs `f` with `backend` (`None`: the CPU) in place of the installed one on this thread, so a
/// test can build the same thing both ways in one process.
pub fn with_commit_backend<T>(backend: Option<Arc<dyn CommitBackend>>, f: impl FnOnce() -> T) -> T {
    let previous = OVERRIDE.with(|o| o.replace(Some(backend)));
    struct Restore(Option<Option<Arc<dyn CommitBackend>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            OVERRIDE.with(|o| *o.borrow_mut() = self.0.take());
        }
    }
    let _restore = Restore(previous);
    f()
}

/// The backend in force on this thread, if any.
pub fn commit_backend() -> Option<Arc<dyn CommitBackend>> {
    if let Some(backend) = OVERRIDE.with(|o| o.borrow().clone()) {
        return backend;
    }
    BACKEND.read().unwrap_or_else(|e| e.into_inner()).clone()
}
