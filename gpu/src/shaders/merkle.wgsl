// Poseidon leaf and node hashing, as plonky2's `PoseidonHash::hash_or_noop` and `two_to_one`.
// `permute` and the round constants come from poseidon.wgsl, generated from plonky2's own.

// Each dispatch's parameters; what `a`, `b` and `c` mean is said at each kernel.
struct Params {
    // How many threads do work in this dispatch (leaves, nodes, states, butterflies...).
    count: u32,
    a: u32,
    b: u32,
    c: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Leaves (hash_leaves) or coefficients (scale_coeffs), as uploaded.
@group(0) @binding(1) var<storage, read> input: array<vec2<u32>>;
// Digests, 4 elements each: the tree's levels one after another.
@group(0) @binding(2) var<storage, read_write> digests: array<vec2<u32>>;
// 12-element Poseidon states: one per leaf while a commitment absorbs its polynomials.
@group(0) @binding(3) var<storage, read_write> states: array<vec2<u32>>;
// w^k for k < N/2, w the N-th root of unity plonky2 uses.
@group(0) @binding(4) var<storage, read> twiddles: array<vec2<u32>>;
// shift^i for i < n, shift plonky2's coset shift.
@group(0) @binding(5) var<storage, read> shift_powers: array<vec2<u32>>;
// Polynomials being transformed, N values each, one after another.
@group(0) @binding(6) var<storage, read_write> values: array<vec2<u32>>;

const WORKGROUP: u32 = 64u;

// Where an invocation is in its dispatch.
struct Invocation {
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
}

// Dispatches are 2-D (65,535 workgroups at most per dimension); this is the flat thread index.
fn thread_index(inv: Invocation) -> u32 {
    return (inv.wid.y * inv.nwg.x + inv.wid.x) * WORKGROUP + inv.lid;
}

// The 12-element state at `states[12 i..]`.
fn load_state(i: u32) -> array<vec2<u32>, 12> {
    var s: array<vec2<u32>, 12>;
    for (var k = 0u; k < 12u; k++) {
        s[k] = states[i * 12u + k];
    }
    return s;
}

fn store_state(i: u32, s: array<vec2<u32>, 12>) {
    for (var k = 0u; k < 12u; k++) {
        states[i * 12u + k] = s[k];
    }
}

@compute @workgroup_size(64)
fn hash_leaves(inv: Invocation) {
    let i = thread_index(inv);
    if i >= params.count {
        return;
    }
    // a: the elements in a leaf; b: the digest index of the first leaf's digest.
    let width = params.a;
    let base = i * width;
    var s: array<vec2<u32>, 12>;
    for (var k = 0u; k < 12u; k++) {
        s[k] = vec2<u32>(0u, 0u);
    }
    if width <= 4u {
        // A leaf that fits in a digest is its own digest, zero-padded.
        for (var k = 0u; k < width; k++) {
            s[k] = input[base + k];
        }
    } else {
        // The sponge in overwrite mode, rate 8, no padding (`hash_n_to_hash_no_pad`).
        for (var off = 0u; off < width; off += 8u) {
            let n = min(8u, width - off);
            for (var k = 0u; k < n; k++) {
                s[k] = input[base + off + k];
            }
            permute(&s);
        }
    }
    let d = (params.b + i) * 4u;
    for (var k = 0u; k < 4u; k++) {
        digests[d + k] = s[k];
    }
}

@compute @workgroup_size(64)
fn hash_nodes(inv: Invocation) {
    let i = thread_index(inv);
    if i >= params.count {
        return;
    }
    // a: the digest index of the first child pair; b: that of the first output.
    let left = (params.a + 2u * i) * 4u;
    var s: array<vec2<u32>, 12>;
    for (var k = 0u; k < 8u; k++) {
        s[k] = digests[left + k];
    }
    for (var k = 8u; k < 12u; k++) {
        s[k] = vec2<u32>(0u, 0u);
    }
    permute(&s);
    let d = (params.b + i) * 4u;
    for (var k = 0u; k < 4u; k++) {
        digests[d + k] = s[k];
    }
}

// The bare permutation, for the known-answer tests.
@compute @workgroup_size(64)
fn permute_states(inv: Invocation) {
    let i = thread_index(inv);
    if i >= params.count {
        return;
    }
    var s = load_state(i);
    permute(&s);
    store_state(i, s);
}

// The field's operations on pairs, for the tests: states[4 i..] holds (a, b) and gets
// (a + b, a - b, a b). Edge values reach the multiplication here, as they never do through the
// permutation (its round constants are added first).
@compute @workgroup_size(64)
fn field_ops(inv: Invocation) {
    let i = thread_index(inv);
    if i >= params.count {
        return;
    }
    let a = states[i * 4u];
    let b = states[i * 4u + 1u];
    states[i * 4u] = gl_add(a, b);
    states[i * 4u + 1u] = gl_sub(a, b);
    states[i * 4u + 2u] = gl_mul(a, b);
}
