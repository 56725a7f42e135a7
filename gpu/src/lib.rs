//! plonky2's commitment steps on a GPU through wgpu: Poseidon Merkle trees over Goldilocks,
//! bit for bit what the CPU builds. `Gpu` runs the kernels; `GpuBackend` plugs them into the
//! prover through the vendored plonky2's commit-backend hook (vendor/README.md).

mod shader;

use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail, ensure};
use plonky2::backend::{CommitBackend, TreeDigests};
use plonky2::field::goldilocks_field::GoldilocksField;
use plonky2::field::polynomial::PolynomialCoeffs;
use plonky2::field::types::{Field, Field64, PrimeField64};
use plonky2::hash::hash_types::HashOut;
use rayon::prelude::*;
use wgpu::util::DeviceExt;

/// Threads per workgroup in every kernel (merkle.wgsl's `WORKGROUP`).
const WORKGROUP: u32 = 64;
/// The most workgroups in one dimension of a dispatch (WebGPU's floor, which every adapter has).
const MAX_GROUPS_PER_DIM: u32 = 65_535;
/// Leaves go up in batches of at most this many bytes, so a tree of any size fits the
/// adapter's buffer limits and the host never holds a second copy of all of them.
const LEAF_BATCH_BYTES: u64 = 128 << 20;

/// Which adapters `Gpu::new` may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapters {
    /// Hardware GPUs only: a software rasterizer proves slower than plonky2 on the same CPU.
    Hardware,
    /// Any adapter, software ones (Mesa's lavapipe, llvmpipe) included: for tests.
    Any,
}

/// A GPU with the kernels compiled and ready.
pub struct Gpu {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    max_binding: u64,
    /// The most bytes of leaves or polynomials on the GPU at once (`LEAF_BATCH_BYTES`).
    batch_bytes: u64,
    hash_leaves: wgpu::ComputePipeline,
    hash_nodes: wgpu::ComputePipeline,
    permute_states: wgpu::ComputePipeline,
    scale_coeffs: wgpu::ComputePipeline,
    dif_stage: wgpu::ComputePipeline,
    absorb: wgpu::ComputePipeline,
    squeeze: wgpu::ComputePipeline,
    field_ops: wgpu::ComputePipeline,
    /// One operation at a time: each uses a validation error scope, which is per device.
    lock: Mutex<()>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// How `Gpu::new` ranks adapters: hardware first, then native APIs before GL.
fn rank(info: &wgpu::AdapterInfo) -> (u8, u8) {
    let kind = match info.device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Cpu => 3,
        wgpu::DeviceType::Other => 4,
    };
    (kind, u8::from(info.backend == wgpu::Backend::Gl))
}

/// Whether an adapter is a software rasterizer rather than a GPU. (Drivers wgpu cannot place,
/// `Other`, are given the benefit of the doubt: `auto` still races them against the CPU.)
fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}

impl Gpu {
    /// Opens the best adapter allowed (`CROWDPROVE_GPU_ADAPTER`, if set, must be part of its
    /// name) and compiles the kernels.
    pub fn new(adapters: Adapters) -> Result<Self> {
        let wanted = std::env::var("CROWDPROVE_GPU_ADAPTER").ok();
        let allowed = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
        // Vulkan, Metal and DX12 first; GL only where none of them answers, since probing GL
        // means opening a display connection (and complaints on stderr where there is none).
        let mut found = Vec::new();
        for backends in [wgpu::Backends::PRIMARY, wgpu::Backends::GL] {
            let backends = backends & allowed;
            if !found.is_empty() || backends.is_empty() {
                continue;
            }
            let instance = wgpu::Instance::new(&wgpu::InstanceDescriptor {
                backends,
                ..wgpu::InstanceDescriptor::from_env_or_default()
            });
            found = instance
                .enumerate_adapters(backends)
                .into_iter()
                .filter(|a| {
                    let name = a.get_info().name.to_lowercase();
                    wanted
                        .as_deref()
                        .is_none_or(|w| name.contains(&w.to_lowercase()))
                })
                .collect();
        }
        found.sort_by_key(|a| rank(&a.get_info()));
        let names: Vec<String> = found.iter().map(|a| describe(&a.get_info())).collect();
        let adapter = found
            .into_iter()
            .find(|a| adapters == Adapters::Any || !is_software(&a.get_info()))
            .ok_or_else(|| {
                if names.is_empty() {
                    anyhow!("no GPU adapter found (no Vulkan, Metal, DX12 or GL driver answered)")
                } else {
                    anyhow!("no hardware GPU adapter: only {}", names.join(", "))
                }
            })?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("crowdprove"),
            required_features: wgpu::Features::empty(),
            required_limits: limits.clone(),
            memory_hints: wgpu::MemoryHints::Performance,
            trace: wgpu::Trace::Off,
        }))
        .with_context(|| format!("opening {}", describe(&info)))?;
        // Errors are caught by the error scope around each operation; anything else is logged
        // rather than wgpu's default, which panics.
        device.on_uncaptured_error(Box::new(|e| tracing::error!("GPU error: {e}")));

        device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("crowdprove-merkle"),
            source: wgpu::ShaderSource::Wgsl(shader::source().into()),
        });
        let pipeline = |entry: &str| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let (hash_leaves, hash_nodes, permute_states) = (
            pipeline("hash_leaves"),
            pipeline("hash_nodes"),
            pipeline("permute_states"),
        );
        let (scale_coeffs, dif_stage, absorb, squeeze) = (
            pipeline("scale_coeffs"),
            pipeline("dif_stage"),
            pipeline("absorb"),
            pipeline("squeeze"),
        );
        let field_ops = pipeline("field_ops");
        if let Some(e) = pollster::block_on(device.pop_error_scope()) {
            bail!("compiling the kernels on {}: {e}", describe(&info));
        }
        let max_binding =
            u64::from(limits.max_storage_buffer_binding_size).min(limits.max_buffer_size);
        Ok(Self {
            device,
            queue,
            info,
            max_binding,
            batch_bytes: LEAF_BATCH_BYTES.min(max_binding),
            hash_leaves,
            hash_nodes,
            permute_states,
            scale_coeffs,
            dif_stage,
            absorb,
            squeeze,
            field_ops,
            lock: Mutex::new(()),
        })
    }

    /// The adapter, as "name | API | kind".
    pub fn describe(&self) -> String {
        describe(&self.info)
    }

    /// Whether this is a software rasterizer (it proves correctly, but slowly).
    pub fn is_software(&self) -> bool {
        is_software(&self.info)
    }

    /// `(a + b, a - b, a b)` of each pair (canonical or not) by the GPU's field arithmetic, for
    /// the tests.
    #[doc(hidden)]
    pub fn field_ops(
        &self,
        pairs: &[(GoldilocksField, GoldilocksField)],
    ) -> Result<Vec<[GoldilocksField; 3]>> {
        let rows: Vec<[GoldilocksField; 4]> = pairs
            .iter()
            .map(|&(a, b)| [a, b, GoldilocksField::ZERO, GoldilocksField::ZERO])
            .collect();
        let out = self.in_place(&self.field_ops, &rows)?;
        Ok(out.into_iter().map(|r| [r[0], r[1], r[2]]).collect())
    }

    /// The Poseidon permutation of each state (canonical or not), for known-answer tests.
    pub fn permute(&self, states: &[[GoldilocksField; 12]]) -> Result<Vec<[GoldilocksField; 12]>> {
        self.in_place(&self.permute_states, states)
    }

    /// Runs a kernel that rewrites `rows` (uploaded canonical) in place in the `states`
    /// binding, one thread a row, and returns them.
    fn in_place<const W: usize>(
        &self,
        pipeline: &wgpu::ComputePipeline,
        rows: &[[GoldilocksField; W]],
    ) -> Result<Vec<[GoldilocksField; W]>> {
        let flat: Vec<u64> = rows
            .iter()
            .flatten()
            .map(|x| x.to_canonical_u64())
            .collect();
        let size = (flat.len() * 8).max(8) as u64;
        self.run(|| {
            let buf = self.storage(size, bytemuck::cast_slice(&flat));
            let mut encoder = self.device.create_command_encoder(&Default::default());
            self.dispatch(
                &mut encoder,
                pipeline,
                &[(3, &buf)],
                rows.len() as u32,
                [0, 0, 0],
            );
            let out = self.read(encoder, &buf, size)?;
            Ok(out
                .chunks_exact(W)
                .map(|r| std::array::from_fn(|k| GoldilocksField(r[k])))
                .collect())
        })
    }

    /// The Poseidon Merkle tree over `leaves` with a cap of height `cap_height`: the digests in
    /// `MerkleTree::digests`' layout and the cap, exactly as `MerkleTree::new` builds them.
    pub fn merkle_tree(
        &self,
        leaves: &[Vec<GoldilocksField>],
        cap_height: usize,
    ) -> Result<TreeDigests> {
        let n = leaves.len();
        ensure!(
            n.is_power_of_two(),
            "a Merkle tree needs a power of two of leaves, not {n}"
        );
        let width = leaves[0].len();
        ensure!(
            leaves.iter().all(|l| l.len() == width),
            "leaves of different lengths"
        );
        let (levels, digests_size) = self.tree_shape(n, cap_height)?;
        let leaf_bytes = (width.max(1) * 8) as u64;
        let batch = (self.batch_bytes / leaf_bytes).max(1) as usize;
        ensure!(
            leaf_bytes <= self.max_binding,
            "a leaf of {width} elements is too wide"
        );
        let batch = batch.min(n);
        let started = Instant::now();

        let out = self.run(|| {
            let digests = self.storage(digests_size, &[]);
            let leaves_buf = self.storage((batch * width.max(1) * 8) as u64, &[]);
            let mut flat = Vec::with_capacity(batch * width);
            for (b, chunk) in leaves.chunks(batch).enumerate() {
                flat.clear();
                flat.extend(chunk.iter().flatten().map(|x| x.to_canonical_u64()));
                if !flat.is_empty() {
                    self.queue
                        .write_buffer(&leaves_buf, 0, bytemuck::cast_slice(&flat));
                }
                let mut encoder = self.device.create_command_encoder(&Default::default());
                let params = [width as u32, (b * batch) as u32, 0];
                self.dispatch(
                    &mut encoder,
                    &self.hash_leaves,
                    &[(1, &leaves_buf), (2, &digests)],
                    chunk.len() as u32,
                    params,
                );
                self.queue.submit([encoder.finish()]);
                // The next batch overwrites the leaves buffer: let this one finish first.
                self.device
                    .poll(wgpu::PollType::Wait)
                    .context("waiting for the GPU")?;
            }
            let mut encoder = self.device.create_command_encoder(&Default::default());
            self.hash_levels(&mut encoder, &digests, n, levels);
            self.read(encoder, &digests, digests_size)
        })?;
        tracing::debug!(
            leaves = n,
            width,
            secs = started.elapsed().as_secs_f64(),
            "GPU Merkle tree"
        );
        Ok(layout(&out, n, cap_height))
    }

    /// The commitment plonky2's `PolynomialBatch::from_coeffs` makes without blinding: the
    /// LDE of each polynomial (coefficients) onto plonky2's coset, `2^rate_bits` times longer,
    /// as leaves in bit-reversed order (leaf `i` holds each polynomial's value at the
    /// `reverse_bits(i)`-th point), and the Poseidon Merkle tree over them.
    pub fn commit(
        &self,
        polynomials: &[PolynomialCoeffs<GoldilocksField>],
        rate_bits: usize,
        cap_height: usize,
    ) -> Result<(Vec<Vec<GoldilocksField>>, TreeDigests)> {
        let count = polynomials.len();
        // Up to 4 values a leaf is its own digest; no proof commits so few.
        ensure!(
            count > 4,
            "a commitment to {count} polynomials is left to the CPU"
        );
        let n = polynomials[0].len();
        ensure!(
            n.is_power_of_two(),
            "polynomials of {n} coefficients, not a power of two"
        );
        ensure!(
            polynomials.iter().all(|p| p.len() == n),
            "polynomials of different lengths"
        );
        let big = n << rate_bits;
        let log_big = big.trailing_zeros();
        ensure!(
            (1..=GoldilocksField::TWO_ADICITY).contains(&(log_big as usize)) && log_big < 31,
            "an LDE of 2^{log_big} points"
        );
        let (levels, digests_size) = self.tree_shape(big, cap_height)?;
        let states_size = (big * 12 * 8) as u64;
        let poly_bytes = (big * 8) as u64;
        ensure!(
            states_size.max(8 * poly_bytes) <= self.max_binding,
            "an LDE of 2^{log_big} points needs more than this adapter binds ({} bytes)",
            self.max_binding
        );
        // Polynomials per group: a multiple of 8, so each group absorbs whole sponge blocks.
        let group = ((self.batch_bytes / poly_bytes / 8).max(1) * 8) as usize;
        let group = group.min(count.next_multiple_of(8));
        let started = Instant::now();

        let shift = GoldilocksField::coset_shift();
        let shift_powers: Vec<u64> = shift
            .powers()
            .take(n)
            .map(|x| x.to_canonical_u64())
            .collect();
        let root = GoldilocksField::primitive_root_of_unity(log_big as usize);
        let twiddles: Vec<u64> = root
            .powers()
            .take(big / 2)
            .map(|x| x.to_canonical_u64())
            .collect();

        let mut leaves: Vec<Vec<GoldilocksField>> =
            (0..big).map(|_| Vec::with_capacity(count)).collect();
        let digests = self.run(|| {
            let twiddles = self.storage(
                (twiddles.len() * 8).max(8) as u64,
                bytemuck::cast_slice(&twiddles),
            );
            let shift_powers = self.storage((n * 8) as u64, bytemuck::cast_slice(&shift_powers));
            let input = self.storage((group * n * 8) as u64, &[]);
            let values = self.storage(group as u64 * poly_bytes, &[]);
            let states = self.storage(states_size, &[]);
            let digests = self.storage(digests_size, &[]);
            let mut flat = Vec::with_capacity(group * n);
            for polys in polynomials.chunks(group) {
                let m = polys.len();
                flat.clear();
                flat.extend(
                    polys
                        .iter()
                        .flat_map(|p| p.coeffs.iter().map(|x| x.to_canonical_u64())),
                );
                self.queue
                    .write_buffer(&input, 0, bytemuck::cast_slice(&flat));
                let mut encoder = self.device.create_command_encoder(&Default::default());
                self.dispatch(
                    &mut encoder,
                    &self.scale_coeffs,
                    &[(1, &input), (5, &shift_powers), (6, &values)],
                    (m * big) as u32,
                    [log_big, n as u32, 0],
                );
                for log_half in (0..log_big).rev() {
                    self.dispatch(
                        &mut encoder,
                        &self.dif_stage,
                        &[(4, &twiddles), (6, &values)],
                        (m * big / 2) as u32,
                        [log_half, log_big, log_big - log_half - 1],
                    );
                }
                self.dispatch(
                    &mut encoder,
                    &self.absorb,
                    &[(3, &states), (6, &values)],
                    big as u32,
                    [m as u32, 0, 0],
                );
                // Reading the values back also waits for the group, before the next one
                // overwrites the input.
                let out = self.read(encoder, &values, m as u64 * poly_bytes)?;
                leaves.par_iter_mut().enumerate().for_each(|(i, leaf)| {
                    leaf.extend((0..m).map(|q| GoldilocksField(out[q * big + i])));
                });
            }
            let mut encoder = self.device.create_command_encoder(&Default::default());
            self.dispatch(
                &mut encoder,
                &self.squeeze,
                &[(2, &digests), (3, &states)],
                big as u32,
                [0, 0, 0],
            );
            self.hash_levels(&mut encoder, &digests, big, levels);
            self.read(encoder, &digests, digests_size)
        })?;
        tracing::debug!(
            polynomials = count,
            points = big,
            secs = started.elapsed().as_secs_f64(),
            "GPU commitment"
        );
        Ok((leaves, layout(&digests, big, cap_height)))
    }

    /// The levels above the leaves of a tree of `n` leaves (a power of two) with a cap of height
    /// `cap_height`, and the bytes its digests take on the GPU: every level down to the cap,
    /// one after another (`hash_levels`' layout), n + n/2 + ... < 2n digests.
    fn tree_shape(&self, n: usize, cap_height: usize) -> Result<(usize, u64)> {
        let log_n = n.trailing_zeros() as usize;
        ensure!(
            cap_height <= log_n,
            "cap height {cap_height} is above the tree's {log_n}"
        );
        let levels = log_n - cap_height;
        let total_digests: usize = (0..=levels).map(|i| n >> i).sum();
        let digests_size = (total_digests * 32) as u64;
        ensure!(
            digests_size <= self.max_binding,
            "{n} leaves need {digests_size} bytes of digests; this adapter binds {} at most",
            self.max_binding
        );
        Ok((levels, digests_size))
    }

    /// Records the dispatches that hash each level of a tree of `n` leaves into the next, for
    /// `levels` levels: the level-0 digests first in `digests`, each level right after the one
    /// below.
    fn hash_levels(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        digests: &wgpu::Buffer,
        n: usize,
        levels: usize,
    ) {
        let mut src = 0;
        for level in 1..=levels {
            let count = n >> level;
            let dst = src + (count << 1);
            self.dispatch(
                encoder,
                &self.hash_nodes,
                &[(2, digests)],
                count as u32,
                [src as u32, dst as u32, 0],
            );
            src = dst;
        }
    }

    /// This GPU with at most `bytes` of leaves or polynomials on it at once, so the tests can
    /// make small trees and commitments take several batches.
    #[doc(hidden)]
    pub fn with_batch_bytes(mut self, bytes: u64) -> Self {
        self.batch_bytes = bytes.clamp(8, self.max_binding);
        self
    }

    /// Runs `op` alone on the device and turns any validation or memory error into an `Err`.
    fn run<T>(&self, op: impl FnOnce() -> Result<T>) -> Result<T> {
        let _alone = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.device.push_error_scope(wgpu::ErrorFilter::Internal);
        self.device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let out = op();
        let validation = pollster::block_on(self.device.pop_error_scope());
        let memory = pollster::block_on(self.device.pop_error_scope());
        let internal = pollster::block_on(self.device.pop_error_scope());
        if let Some(e) = validation.or(memory).or(internal) {
            bail!("{}: {e}", self.describe());
        }
        out
    }

    fn storage(&self, size: u64, contents: &[u8]) -> wgpu::Buffer {
        let usage = wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_DST
            | wgpu::BufferUsages::COPY_SRC;
        if contents.is_empty() {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: None,
                size,
                usage,
                mapped_at_creation: false,
            })
        } else {
            self.device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: None,
                    contents,
                    usage,
                })
        }
    }

    /// Records one dispatch of `pipeline` over `count` threads, with `params` after the count
    /// (merkle.wgsl's `Params`) and the storage buffers at their binding numbers.
    fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &wgpu::Buffer)],
        count: u32,
        params: [u32; 3],
    ) {
        if count == 0 {
            return;
        }
        let uniform = self
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: None,
                contents: bytemuck::cast_slice(&[count, params[0], params[1], params[2]]),
                usage: wgpu::BufferUsages::UNIFORM,
            });
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        entries.extend(buffers.iter().map(|(binding, buf)| wgpu::BindGroupEntry {
            binding: *binding,
            resource: buf.as_entire_binding(),
        }));
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: None,
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let groups = count.div_ceil(WORKGROUP);
        let x = groups.min(MAX_GROUPS_PER_DIM);
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x, groups.div_ceil(x), 1);
    }

    /// Submits `encoder` with a copy of `buf`'s first `size` bytes back, and returns them.
    fn read(
        &self,
        mut encoder: wgpu::CommandEncoder,
        buf: &wgpu::Buffer,
        size: u64,
    ) -> Result<Vec<u64>> {
        let staging = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: None,
            size,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        encoder.copy_buffer_to_buffer(buf, 0, &staging, 0, size);
        self.queue.submit([encoder.finish()]);
        let (tx, rx) = mpsc::channel();
        staging.slice(..).map_async(wgpu::MapMode::Read, move |r| {
            let _ = tx.send(r);
        });
        self.device
            .poll(wgpu::PollType::Wait)
            .context("waiting for the GPU")?;
        rx.recv()
            .context("the GPU dropped a read")?
            .context("reading back from the GPU")?;
        let out = staging
            .slice(..)
            .get_mapped_range()
            .chunks_exact(8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .collect();
        staging.unmap();
        Ok(out)
    }
}

fn describe(info: &wgpu::AdapterInfo) -> String {
    format!(
        "{} | {:?} | {:?}",
        info.name, info.backend, info.device_type
    )
}

/// Lays the levels out as `MerkleTree` does: each of the cap's subtrees is contiguous, and
/// within one a node's two children are stored together after its left subtree
/// (plonky2's `merkle_tree_prove` reads them back by the same formula).
fn layout(levels: &[u64], n: usize, cap_height: usize) -> TreeDigests {
    let digest = |i: usize| HashOut {
        elements: std::array::from_fn(|k| GoldilocksField(levels[4 * i + k])),
    };
    let layers = n.trailing_zeros() as usize - cap_height;
    let subtree_len = 2 * ((n >> cap_height) - 1);
    let mut digests = vec![
        HashOut {
            elements: [GoldilocksField::ZERO; 4]
        };
        subtree_len << cap_height
    ];
    let mut start = 0;
    for layer in 0..layers {
        let per_subtree = n >> (cap_height + layer);
        for g in 0..(n >> layer) {
            let (tree, node) = (g / per_subtree, g % per_subtree);
            let pair = node >> 1;
            let pos = 2 * ((pair << (layer + 1)) + (1 << layer) - 1) + (node & 1);
            digests[tree * subtree_len + pos] = digest(start + g);
        }
        start += n >> layer;
    }
    let cap = (0..1 << cap_height).map(|i| digest(start + i)).collect();
    (digests, cap)
}

/// The GPU as plonky2's commit backend. A GPU error is logged and that step runs on the CPU,
/// so a proof never fails for it.
#[derive(Debug)]
pub struct GpuBackend {
    gpu: Arc<Gpu>,
}

impl GpuBackend {
    /// Wraps an opened (and self-tested) GPU.
    pub fn new(gpu: Arc<Gpu>) -> Self {
        Self { gpu }
    }
}

impl CommitBackend for GpuBackend {
    fn commit(
        &self,
        polynomials: &[PolynomialCoeffs<GoldilocksField>],
        rate_bits: usize,
        cap_height: usize,
    ) -> Option<(Vec<Vec<GoldilocksField>>, TreeDigests)> {
        if polynomials.len() <= 4 {
            return None;
        }
        self.gpu
            .commit(polynomials, rate_bits, cap_height)
            .map_err(|e| tracing::warn!("GPU commitment failed, making it on the CPU: {e:#}"))
            .ok()
    }

    fn merkle_tree(
        &self,
        leaves: &[Vec<GoldilocksField>],
        cap_height: usize,
    ) -> Option<TreeDigests> {
        self.gpu
            .merkle_tree(leaves, cap_height)
            .map_err(|e| tracing::warn!("GPU Merkle tree failed, building it on the CPU: {e:#}"))
            .ok()
    }
}

/// Checks the GPU against the CPU on known inputs before it is trusted with a proof: Poseidon
/// permutations, Merkle trees with wide leaves, short leaves and a cap, and
/// commitments (the LDE and the tree over it).
pub fn self_test(gpu: &Gpu) -> Result<()> {
    use plonky2::hash::poseidon::{Poseidon, PoseidonHash};

    let order = GoldilocksField::ORDER;
    let edge = [
        0,
        1,
        2,
        order - 1,
        order - 2,
        1 << 32,
        (1 << 32) - 1,
        u64::MAX >> 1,
        0xdead_beef_cafe_f00d % order,
    ];
    let states: Vec<[GoldilocksField; 12]> = (0..64u64)
        .map(|t| {
            std::array::from_fn(|k| {
                let x = edge[(t as usize * 7 + k * 5) % edge.len()];
                GoldilocksField(x.wrapping_mul(t + 1).wrapping_add(k as u64) % order)
            })
        })
        .collect();
    let got = gpu.permute(&states)?;
    for (s, g) in states.iter().zip(&got) {
        ensure!(
            GoldilocksField::poseidon(*s) == *g,
            "{}: Poseidon permutation differs from the CPU",
            gpu.describe()
        );
    }
    for (count, log_n, rate_bits) in [(9, 3, 3), (20, 2, 1)] {
        let polys: Vec<PolynomialCoeffs<GoldilocksField>> = (0..count as u64)
            .map(|p| {
                PolynomialCoeffs::new(
                    (0..1u64 << log_n)
                        .map(|i| GoldilocksField(edge[((p * 3 + i) % 9) as usize] ^ (p << 40)))
                        .collect(),
                )
            })
            .collect();
        let got = gpu.commit(&polys, rate_bits, 1)?;
        ensure!(
            got == cpu_commit(polys, rate_bits, 1),
            "{}: a commitment (LDE and tree) differs from the CPU",
            gpu.describe()
        );
    }
    for (width, cap_height) in [(135, 2), (3, 0), (9, 4)] {
        let leaves: Vec<Vec<GoldilocksField>> = (0..16u64)
            .map(|i| {
                (0..width as u64)
                    .map(|k| GoldilocksField((i * 1_000_003 + k * 7919) % order))
                    .collect()
            })
            .collect();
        let (digests, cap) = gpu.merkle_tree(&leaves, cap_height)?;
        let cpu = cpu_tree::<PoseidonHash>(leaves, cap_height);
        ensure!(
            digests == cpu.digests && cap == cpu.cap.0,
            "{}: Merkle tree differs from the CPU",
            gpu.describe()
        );
    }
    Ok(())
}

/// Seconds the GPU and the CPU (all its cores) take for one commitment shaped like a chunk
/// proof's wires (135 polynomials, 2^13 points): whether a GPU is worth using, for `auto`.
pub fn race(gpu: &Gpu) -> Result<(f64, f64)> {
    use plonky2::field::types::Sample;

    let polys: Vec<PolynomialCoeffs<GoldilocksField>> = (0..135)
        .map(|_| PolynomialCoeffs::new(GoldilocksField::rand_vec(1 << 10)))
        .collect();
    // Once each untimed: the GPU's first dispatches and the CPU's thread pool start slowly.
    gpu.commit(&polys, 3, 4)?;
    cpu_commit(polys.clone(), 3, 4);
    let t = Instant::now();
    gpu.commit(&polys, 3, 4)?;
    let on_gpu = t.elapsed().as_secs_f64();
    let t = Instant::now();
    cpu_commit(polys, 3, 4);
    Ok((on_gpu, t.elapsed().as_secs_f64()))
}

/// The CPU's commitment (`PolynomialBatch::from_coeffs`, no blinding), whatever backend is
/// installed: its leaves, digests and cap.
pub fn cpu_commit(
    polynomials: Vec<PolynomialCoeffs<GoldilocksField>>,
    rate_bits: usize,
    cap_height: usize,
) -> (Vec<Vec<GoldilocksField>>, TreeDigests) {
    use plonky2::fri::oracle::PolynomialBatch;
    use plonky2::plonk::config::PoseidonGoldilocksConfig;
    use plonky2::util::timing::TimingTree;

    let batch = plonky2::backend::with_commit_backend(None, || {
        PolynomialBatch::<GoldilocksField, PoseidonGoldilocksConfig, 2>::from_coeffs(
            polynomials,
            rate_bits,
            false,
            cap_height,
            &mut TimingTree::default(),
            None,
        )
    });
    let tree = batch.merkle_tree;
    (tree.leaves, (tree.digests, tree.cap.0))
}

/// The CPU's tree, whatever backend is installed.
pub fn cpu_tree<H: plonky2::plonk::config::Hasher<GoldilocksField>>(
    leaves: Vec<Vec<GoldilocksField>>,
    cap_height: usize,
) -> plonky2::hash::merkle_tree::MerkleTree<GoldilocksField, H> {
    plonky2::backend::with_commit_backend(None, || {
        plonky2::hash::merkle_tree::MerkleTree::new(leaves, cap_height)
    })
}
