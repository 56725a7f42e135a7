//! The GPU kernels against plonky2's CPU code, bit for bit, on whatever adapter this machine
//! has: Mesa's lavapipe (a software Vulkan driver, `make setup` installs it) where there is no
//! GPU. Software or not, the arithmetic is the same WGSL.

use std::sync::{Arc, Mutex, OnceLock};

use crowdprove_gpu::{Adapters, Gpu, GpuBackend, cpu_commit, cpu_tree, race, self_test};
use plonky2::backend::{CommitBackend, TreeDigests, with_commit_backend};
use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::field::polynomial::PolynomialCoeffs;
use plonky2::field::types::{Field, Field64};
use plonky2::hash::poseidon::{Poseidon, PoseidonHash};
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitConfig;
use plonky2::plonk::config::{Hasher, PoseidonGoldilocksConfig};
use rand::{Rng, SeedableRng, rngs::StdRng};

type F = GoldilocksField;

fn gpu() -> Arc<Gpu> {
    static GPU: OnceLock<Arc<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| {
        let gpu = Gpu::new(Adapters::Any).expect("a GPU adapter (run `make setup` for lavapipe)");
        eprintln!("adapter: {}", gpu.describe());
        Arc::new(gpu)
    })
    .clone()
}

/// Field elements that stress the limb arithmetic: near 0, near p, near 2^32 and 2^63, and
/// non-canonical representations (p..2^64), which the CPU accepts too.
fn element(rng: &mut StdRng) -> F {
    let p = F::ORDER;
    match rng.random_range(0..6) {
        0 => GoldilocksField(rng.random_range(0..8)),
        1 => GoldilocksField(p - 1 - rng.random_range(0..8)),
        2 => GoldilocksField((1 << 32) + rng.random_range(0..8) - 4),
        3 => GoldilocksField(p + rng.random_range(0..u64::MAX - p)),
        4 => GoldilocksField((1 << 63) + rng.random_range(0..8) - 4),
        _ => GoldilocksField(rng.random::<u64>()),
    }
}

#[test]
fn self_test_passes() {
    self_test(&gpu()).expect("self-test");
}

/// Addition, subtraction and multiplication on every pair of edge values (near 0, p, 2^32,
/// 2^63 and 2^64, where carries, borrows and both of reduce128's branches happen) and on random
/// pairs, canonical and not: each the CPU's, and canonical.
#[test]
fn field_arithmetic_matches_cpu_on_edges() {
    let p = F::ORDER;
    let mut edges = vec![
        0,
        1,
        2,
        3,
        p - 1,
        p - 2,
        p - 3,
        u64::MAX,
        u64::MAX - 1,
        p + 1,
    ];
    for k in [16, 31, 32, 33, 47, 48, 62, 63] {
        let x = 1u64 << k;
        edges.extend([x - 1, x, x + 1]);
    }
    edges.extend([
        p - (1 << 32),
        (1 << 32) * 0xffff_fffe,
        0xffff_ffff_0000_0000,
    ]);
    let mut rng = StdRng::seed_from_u64(7);
    let mut pairs: Vec<(F, F)> = edges
        .iter()
        .flat_map(|&a| {
            edges
                .iter()
                .map(move |&b| (GoldilocksField(a), GoldilocksField(b)))
        })
        .collect();
    pairs.extend((0..4096).map(|_| (element(&mut rng), element(&mut rng))));
    let got = gpu().field_ops(&pairs).unwrap();
    for ((a, b), [sum, difference, product]) in pairs.iter().zip(&got) {
        assert_eq!(*sum, *a + *b, "{a} + {b}");
        assert_eq!(*difference, *a - *b, "{a} - {b}");
        assert_eq!(*product, *a * *b, "{a} * {b}");
        assert!(
            [sum, difference, product].iter().all(|x| x.0 < p),
            "{a}, {b}: canonical"
        );
    }
}

/// `auto`'s race: both sides commit and are timed (which wins is the machine's business).
#[test]
fn race_times_both_sides() {
    let (on_gpu, on_cpu) = race(&gpu()).unwrap();
    assert!(on_gpu > 0.0 && on_cpu > 0.0 && on_gpu.is_finite() && on_cpu.is_finite());
}

#[test]
fn poseidon_permutation_matches_cpu() {
    let mut rng = StdRng::seed_from_u64(1);
    let states: Vec<[F; 12]> = (0..4096)
        .map(|_| std::array::from_fn(|_| element(&mut rng)))
        .collect();
    let got = gpu().permute(&states).unwrap();
    for (i, (s, g)) in states.iter().zip(&got).enumerate() {
        assert_eq!(F::poseidon(*s), *g, "state {i}: {s:?}");
        // The GPU's output is canonical, so it matches the CPU's bytes, not just its values.
        assert!(g.iter().all(|x| x.0 < F::ORDER));
    }
}

#[test]
fn merkle_trees_match_cpu() {
    let mut rng = StdRng::seed_from_u64(2);
    // Widths: a digest or less (no hashing), one sponge block, a partial block, the chunk
    // circuits' 135 wires, FRI's arity-8 extension leaves (16).
    for (log_n, width, cap_height) in [
        (0, 135, 0),
        (1, 5, 0),
        (1, 4, 1),
        (3, 1, 0),
        (4, 8, 2),
        (6, 9, 6),
        (8, 16, 4),
        (10, 135, 4),
        (11, 84, 0),
    ] {
        let leaves: Vec<Vec<F>> = (0..1usize << log_n)
            .map(|_| (0..width).map(|_| element(&mut rng)).collect())
            .collect();
        let (digests, cap) = gpu().merkle_tree(&leaves, cap_height).unwrap();
        let cpu = cpu_tree::<PoseidonHash>(leaves, cap_height);
        assert_eq!(
            cap, cpu.cap.0,
            "cap: 2^{log_n} leaves of {width}, cap height {cap_height}"
        );
        assert_eq!(digests.len(), cpu.digests.len());
        for (i, (g, c)) in digests.iter().zip(&cpu.digests).enumerate() {
            assert_eq!(
                g, c,
                "digest {i}: 2^{log_n} leaves of {width}, cap height {cap_height}"
            );
        }
    }
}

/// Trees bigger than a batch of leaves: several uploads into one tree.
#[test]
fn merkle_trees_in_several_batches_match_cpu() {
    let mut rng = StdRng::seed_from_u64(3);
    let small = Gpu::new(Adapters::Any)
        .unwrap()
        .with_batch_bytes(100 * 135 * 8);
    let leaves: Vec<Vec<F>> = (0..1 << 10)
        .map(|_| (0..135).map(|_| element(&mut rng)).collect())
        .collect();
    let (digests, cap) = small.merkle_tree(&leaves, 3).unwrap();
    let cpu = cpu_tree::<PoseidonHash>(leaves, 3);
    assert_eq!((digests, cap), (cpu.digests, cpu.cap.0));
}

fn polynomials(rng: &mut StdRng, count: usize, log_n: usize) -> Vec<PolynomialCoeffs<F>> {
    (0..count)
        .map(|_| PolynomialCoeffs::new((0..1 << log_n).map(|_| element(rng)).collect()))
        .collect()
}

/// The LDE and the tree over it against plonky2's `from_coeffs`: leaves (so every value of
/// every LDE, in leaf order), digests and cap. Counts of polynomials around the sponge's
/// 8-element blocks; the rate bits and sizes of the chunk circuits' commitments, smaller.
#[test]
fn commitments_match_cpu() {
    let mut rng = StdRng::seed_from_u64(4);
    for (count, log_n, rate_bits, cap_height) in [
        (5, 0, 1, 0),
        (8, 1, 3, 0),
        (9, 4, 3, 2),
        (16, 3, 1, 4),
        (20, 6, 3, 4),
        (135, 7, 3, 4),
        (13, 10, 2, 0),
    ] {
        let polys = polynomials(&mut rng, count, log_n);
        let (leaves, (digests, cap)) = gpu().commit(&polys, rate_bits, cap_height).unwrap();
        let (cpu_leaves, (cpu_digests, cpu_cap)) = cpu_commit(polys, rate_bits, cap_height);
        let what = format!("{count} polynomials of 2^{log_n}, rate bits {rate_bits}");
        assert_eq!(leaves.len(), cpu_leaves.len(), "{what}");
        for (i, (g, c)) in leaves.iter().zip(&cpu_leaves).enumerate() {
            assert_eq!(g, c, "leaf {i}: {what}");
        }
        assert!(
            leaves.iter().flatten().all(|x| x.0 < F::ORDER),
            "{what}: canonical"
        );
        assert_eq!(digests, cpu_digests, "{what}");
        assert_eq!(cap, cpu_cap, "{what}");
    }
}

/// More polynomials than fit on the GPU at once: groups of 8, the last one short.
#[test]
fn commitments_in_several_groups_match_cpu() {
    let mut rng = StdRng::seed_from_u64(5);
    let small = Gpu::new(Adapters::Any)
        .unwrap()
        .with_batch_bytes(8 * (1 << 9) * 8);
    let polys = polynomials(&mut rng, 30, 6);
    let got = small.commit(&polys, 3, 2).unwrap();
    assert!(got == cpu_commit(polys, 3, 2));
}

#[test]
fn bad_commitments_are_errors_not_panics() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut polys = polynomials(&mut rng, 9, 3);
    assert!(gpu().commit(&polys[..4], 3, 0).is_err(), "too few to hash");
    assert!(gpu().commit(&polys, 3, 7).is_err(), "cap above the tree");
    polys[3].coeffs.pop();
    assert!(gpu().commit(&polys, 3, 0).is_err(), "ragged");
    polys[3].coeffs.truncate(3);
    let all = vec![polys[3].clone(); 9];
    assert!(gpu().commit(&all, 3, 0).is_err(), "not a power of two");
}

#[test]
fn bad_trees_are_errors_not_panics() {
    let leaves = vec![vec![F::ONE; 3]; 3];
    let e = gpu().merkle_tree(&leaves, 0).unwrap_err();
    assert!(e.to_string().contains("power of two"), "{e}");
    let e = gpu().merkle_tree(&leaves[..2], 2).unwrap_err();
    assert!(e.to_string().contains("cap height"), "{e}");
    let ragged = vec![vec![F::ONE; 3], vec![F::ONE; 4]];
    assert!(gpu().merkle_tree(&ragged, 0).is_err());
}

/// The GPU backend, checking each tree it builds against the CPU's on the same leaves.
struct Checked {
    gpu: Arc<Gpu>,
    trees: Mutex<Vec<(usize, usize, bool)>>,
    commits: Mutex<Vec<(usize, usize, bool)>>,
}

impl CommitBackend for Checked {
    fn commit(
        &self,
        polynomials: &[PolynomialCoeffs<F>],
        rate_bits: usize,
        cap_height: usize,
    ) -> Option<(Vec<Vec<F>>, TreeDigests)> {
        let n = polynomials[0].len() << rate_bits;
        let Some(got) =
            GpuBackend::new(self.gpu.clone()).commit(polynomials, rate_bits, cap_height)
        else {
            self.commits
                .lock()
                .unwrap()
                .push((n, polynomials.len(), false));
            return None;
        };
        let same = got == cpu_commit(polynomials.to_vec(), rate_bits, cap_height);
        self.commits
            .lock()
            .unwrap()
            .push((n, polynomials.len(), same));
        Some(got)
    }

    fn merkle_tree(&self, leaves: &[Vec<F>], cap_height: usize) -> Option<TreeDigests> {
        let Some(tree) = GpuBackend::new(self.gpu.clone()).merkle_tree(leaves, cap_height) else {
            // The GPU gave up on it (the CPU then builds it): a failure here.
            self.trees
                .lock()
                .unwrap()
                .push((leaves.len(), leaves[0].len(), false));
            return None;
        };
        let cpu = cpu_tree::<PoseidonHash>(leaves.to_vec(), cap_height);
        let same = tree.0 == cpu.digests && tree.1 == cpu.cap.0;
        self.trees
            .lock()
            .unwrap()
            .push((leaves.len(), leaves[0].len(), same));
        Some(tree)
    }
}

/// A whole proof through the backend hook: every commitment (wires, permutation products,
/// quotient: LDE and tree) and each FRI layer's tree is made on the GPU and is the CPU's, value
/// for value and digest for digest (so every Merkle opening is too), and the proof verifies
/// with the unchanged verifier. (Two proofs of one witness differ: plonky2 randomizes some
/// unused wires, so proofs are not compared whole.)
#[test]
fn whole_proof_matches_cpu_and_verifies() {
    const D: usize = 2;
    type C = PoseidonGoldilocksConfig;
    let mut builder = CircuitBuilder::<F, D>::new(CircuitConfig::standard_recursion_config());
    // A hash chain: Poseidon gates, arithmetic and copy constraints, 2^9 rows.
    let x = builder.add_virtual_target();
    let mut h = builder.hash_n_to_hash_no_pad::<PoseidonHash>(vec![x]);
    for i in 0..200 {
        let c = builder.constant(F::from_canonical_u64(i));
        let m = builder.mul_add(h.elements[0], h.elements[1], c);
        h = builder.hash_n_to_hash_no_pad::<PoseidonHash>(vec![m, h.elements[2], h.elements[3]]);
    }
    builder.register_public_inputs(&h.elements);
    let data = builder.build::<C>();
    let mut pw = PartialWitness::new();
    pw.set_target(x, F::from_canonical_u64(42)).unwrap();

    let checked = Arc::new(Checked {
        gpu: gpu(),
        trees: Mutex::new(Vec::new()),
        commits: Mutex::new(Vec::new()),
    });
    let backend: Arc<dyn CommitBackend> = checked.clone();
    let proof = with_commit_backend(Some(backend), || data.prove(pw)).unwrap();
    // The wires (135 polynomials on 2^12 points), Z and partial products, the quotient.
    let commits = checked.commits.lock().unwrap().clone();
    assert_eq!(commits.len(), 3, "{commits:?}");
    assert!(commits.contains(&(1 << 12, 135, true)), "{commits:?}");
    assert!(commits.iter().all(|&(_, _, same)| same), "{commits:?}");
    // FRI's commit phase: each folded layer's tree.
    let trees = checked.trees.lock().unwrap().clone();
    assert!(!trees.is_empty(), "{trees:?}");
    assert!(trees.iter().all(|&(_, _, same)| same), "{trees:?}");
    data.verify(proof.clone()).unwrap();

    // The public inputs are the chain's end, so the circuit did what it says.
    let mut expect = PoseidonHash::hash_no_pad(&[F::from_canonical_u64(42)]);
    for i in 0..200 {
        let m = expect.elements[0] * expect.elements[1] + F::from_canonical_u64(i);
        expect = PoseidonHash::hash_no_pad(&[m, expect.elements[2], expect.elements[3]]);
    }
    assert_eq!(proof.public_inputs, expect.elements.to_vec());
}
