// Poseidon leaf and node hashing, as plonky2's `PoseidonHash::hash_or_noop` and `two_to_one`.
// `permute` and the round constants come from poseidon.wgsl, generated from plonky2's own.

struct Params {
    // How many leaves, nodes or states this dispatch processes.
    count: u32,
    // Leaves: the elements in one leaf. Nodes: the digest index of the first child pair.
    width_or_src: u32,
    // The digest index this dispatch writes its first output to.
    dst: u32,
    pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> leaves: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> digests: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read_write> states: array<vec2<u32>>;

const WORKGROUP: u32 = 64u;

// Dispatches are 2-D (65,535 workgroups at most per dimension); this is the flat thread index.
fn thread_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WORKGROUP + lid;
}

@compute @workgroup_size(64)
fn hash_leaves(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
    if i >= params.count {
        return;
    }
    let width = params.width_or_src;
    let base = i * width;
    var s: array<vec2<u32>, 12>;
    for (var k = 0u; k < 12u; k++) {
        s[k] = vec2<u32>(0u, 0u);
    }
    if width <= 4u {
        // A leaf that fits in a digest is its own digest, zero-padded.
        for (var k = 0u; k < width; k++) {
            s[k] = leaves[base + k];
        }
    } else {
        // The sponge in overwrite mode, rate 8, no padding (`hash_n_to_hash_no_pad`).
        for (var off = 0u; off < width; off += 8u) {
            let n = min(8u, width - off);
            for (var k = 0u; k < n; k++) {
                s[k] = leaves[base + off + k];
            }
            permute(&s);
        }
    }
    let d = (params.dst + i) * 4u;
    for (var k = 0u; k < 4u; k++) {
        digests[d + k] = s[k];
    }
}

@compute @workgroup_size(64)
fn hash_nodes(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
    if i >= params.count {
        return;
    }
    let left = (params.width_or_src + 2u * i) * 4u;
    var s: array<vec2<u32>, 12>;
    for (var k = 0u; k < 8u; k++) {
        s[k] = digests[left + k];
    }
    for (var k = 8u; k < 12u; k++) {
        s[k] = vec2<u32>(0u, 0u);
    }
    permute(&s);
    let d = (params.dst + i) * 4u;
    for (var k = 0u; k < 4u; k++) {
        digests[d + k] = s[k];
    }
}

// The bare permutation, for the known-answer tests.
@compute @workgroup_size(64)
fn permute_states(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let i = thread_index(wid, nwg, lid);
    if i >= params.count {
        return;
    }
    var s: array<vec2<u32>, 12>;
    for (var k = 0u; k < 12u; k++) {
        s[k] = states[i * 12u + k];
    }
    permute(&s);
    for (var k = 0u; k < 12u; k++) {
        states[i * 12u + k] = s[k];
    }
}
