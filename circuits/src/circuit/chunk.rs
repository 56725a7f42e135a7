//! The chunk circuit: applying a chunk's transfers to the pre-state root gives the post-state
//! root. Public inputs: pre root, post root, commitment to the transfer slots, the range
//! [chunk, chunk + 1), the job id and the prover's address.

use anyhow::{Result, ensure};
use plonky2::field::types::Field;
use plonky2::hash::hash_types::HashOutTarget;
use plonky2::hash::poseidon::PoseidonHash;
use plonky2::iop::target::{BoolTarget, Target};
use plonky2::iop::witness::{PartialWitness, WitnessWrite};
use plonky2::plonk::circuit_builder::CircuitBuilder;
use plonky2::plonk::circuit_data::CircuitData;
use plonky2::plonk::proof::ProofWithPublicInputs;

use super::{assert_eq_if, assert_hash_eq_if, config, merkle_root, select_hash};
use crate::hash::{C, D, Digest, F, FieldDigest};
use crate::rollup::{Account, BALANCE_BITS};
use crate::statement::ProverAddress;
use crate::witness::{ChunkWitness, TransferWitness};
use crowdprove_protocol::Params;

struct SlotTargets {
    active: BoolTarget,
    from: Target,
    to: Target,
    amount: Target,
    nonce: Target,
    sender: [Target; 2],
    sender_path: Vec<HashOutTarget>,
    recipient: [Target; 2],
    recipient_path: Vec<HashOutTarget>,
}

/// The built chunk circuit of one parameter set, with the targets its witness fills.
pub(crate) struct ChunkCircuit {
    pub(crate) data: CircuitData<F, C, D>,
    pre_root: HashOutTarget,
    chunk_index: Target,
    job_id: Target,
    prover: [Target; 5],
    slots: Vec<SlotTargets>,
}

impl ChunkCircuit {
    pub(crate) fn build(p: &Params) -> ChunkCircuit {
        let mut b = CircuitBuilder::<F, D>::new(config());
        let zero = b.zero();
        let one = b.one();
        let pre_root = b.add_virtual_hash();
        let mut root = pre_root;
        let mut slots = Vec::with_capacity(p.transfers_per_chunk);
        let mut committed = Vec::with_capacity(p.transfers_per_chunk * 5);
        for _ in 0..p.transfers_per_chunk {
            let s = SlotTargets {
                active: b.add_virtual_bool_target_safe(),
                from: b.add_virtual_target(),
                to: b.add_virtual_target(),
                amount: b.add_virtual_target(),
                nonce: b.add_virtual_target(),
                sender: [b.add_virtual_target(), b.add_virtual_target()],
                sender_path: b.add_virtual_hashes(p.tree_depth),
                recipient: [b.add_virtual_target(), b.add_virtual_target()],
                recipient_path: b.add_virtual_hashes(p.tree_depth),
            };
            let from_bits = b.split_le(s.from, p.tree_depth);
            let to_bits = b.split_le(s.to, p.tree_depth);
            b.range_check(s.amount, BALANCE_BITS);

            // Debit the sender: its leaf must be in the current tree, its nonce the transfer's,
            // and its balance must cover the amount (the difference stays below 2^48).
            let [sb, sn] = s.sender;
            assert_eq_if(&mut b, s.active, s.nonce, sn);
            let debited = b.sub(sb, s.amount);
            b.range_check(debited, BALANCE_BITS);
            let bumped = b.add(sn, one);
            let leaf = HashOutTarget {
                elements: [sb, sn, zero, zero],
            };
            let before = merkle_root(&mut b, leaf, &from_bits, &s.sender_path);
            assert_hash_eq_if(&mut b, s.active, before, root);
            let leaf = HashOutTarget {
                elements: [debited, bumped, zero, zero],
            };
            let mid = merkle_root(&mut b, leaf, &from_bits, &s.sender_path);

            // Credit the recipient, found in the tree after the debit.
            let [rb, rn] = s.recipient;
            let credited = b.add(rb, s.amount);
            b.range_check(credited, BALANCE_BITS);
            let leaf = HashOutTarget {
                elements: [rb, rn, zero, zero],
            };
            let found = merkle_root(&mut b, leaf, &to_bits, &s.recipient_path);
            assert_hash_eq_if(&mut b, s.active, found, mid);
            let leaf = HashOutTarget {
                elements: [credited, rn, zero, zero],
            };
            let after = merkle_root(&mut b, leaf, &to_bits, &s.recipient_path);

            root = select_hash(&mut b, s.active, after, root);
            committed.extend([s.active.target, s.from, s.to, s.amount, s.nonce]);
            slots.push(s);
        }
        let commitment = b.hash_n_to_hash_no_pad::<PoseidonHash>(committed);
        let chunk_index = b.add_virtual_target();
        let range_end = b.add_const(chunk_index, F::ONE);
        let job_id = b.add_virtual_target();
        let prover: [Target; 5] = std::array::from_fn(|_| b.add_virtual_target());

        b.register_public_inputs(&pre_root.elements);
        b.register_public_inputs(&root.elements);
        b.register_public_inputs(&commitment.elements);
        b.register_public_inputs(&[chunk_index, range_end, job_id]);
        b.register_public_inputs(&prover);
        ChunkCircuit {
            // On the CPU whatever backend proves: a circuit's digest (its id on the chain) and
            // the verifier data aggregation embeds must not hang on a GPU's good behaviour.
            data: plonky2::backend::with_commit_backend(None, || b.build::<C>()),
            pre_root,
            chunk_index,
            job_id,
            prover,
            slots,
        }
    }

    /// Proves a chunk whose witness was checked by [`ChunkWitness::summary`].
    pub(crate) fn prove(
        &self,
        w: &ChunkWitness,
        job_id: u64,
        prover: ProverAddress,
    ) -> Result<ProofWithPublicInputs<F, C, D>> {
        ensure!(
            w.transfers.len() <= self.slots.len(),
            "more transfers than slots"
        );
        let mut pw = PartialWitness::<F>::new();
        pw.set_hash_target(self.pre_root, w.pre_root.to_hash_out())?;
        pw.set_target(self.chunk_index, F::from_canonical_u32(w.chunk_index))?;
        pw.set_target(self.job_id, F::from_canonical_u64(job_id))?;
        for (t, limb) in self.prover.iter().zip(prover.limbs()) {
            pw.set_target(*t, F::from_canonical_u32(limb))?;
        }
        for (i, s) in self.slots.iter().enumerate() {
            match w.transfers.get(i) {
                Some(tw) => set_slot(&mut pw, s, Some(tw))?,
                None => set_slot(&mut pw, s, None)?,
            }
        }
        super::prove(&self.data, pw)
    }
}

// An empty slot is all zeros: it changes nothing and commits to zeros.
fn set_slot(
    pw: &mut PartialWitness<F>,
    s: &SlotTargets,
    tw: Option<&TransferWitness>,
) -> Result<()> {
    let f = F::from_canonical_u64;
    let depth = s.sender_path.len();
    let zero_path = vec![Digest::ZERO; depth];
    let (active, t, sender, spath, recipient, rpath) = match tw {
        Some(tw) => (
            true,
            tw.transfer,
            tw.sender,
            &tw.sender_path,
            tw.recipient,
            &tw.recipient_path,
        ),
        None => (
            false,
            crate::rollup::Transfer {
                from: 0,
                to: 0,
                amount: 0,
                nonce: 0,
            },
            Account::default(),
            &zero_path,
            Account::default(),
            &zero_path,
        ),
    };
    pw.set_bool_target(s.active, active)?;
    pw.set_target(s.from, f(t.from))?;
    pw.set_target(s.to, f(t.to))?;
    pw.set_target(s.amount, f(t.amount))?;
    pw.set_target(s.nonce, f(t.nonce))?;
    pw.set_target(s.sender[0], f(sender.balance))?;
    pw.set_target(s.sender[1], f(sender.nonce))?;
    pw.set_target(s.recipient[0], f(recipient.balance))?;
    pw.set_target(s.recipient[1], f(recipient.nonce))?;
    for (target, d) in s
        .sender_path
        .iter()
        .zip(spath)
        .chain(s.recipient_path.iter().zip(rpath))
    {
        pw.set_hash_target(*target, d.to_hash_out())?;
    }
    Ok(())
}
