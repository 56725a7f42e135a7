// A commitment to a batch of polynomials, as plonky2's `PolynomialBatch::from_coeffs` makes it
// without blinding: each polynomial's coefficients times the coset shift's powers, zero-padded
// to N = n << rate_bits, transformed by a decimation-in-frequency NTT (whose output is in
// bit-reversed order, which is the order of the Merkle tree's leaves), then absorbed leaf by
// leaf into Poseidon sponges. Polynomials come in groups (a multiple of 8 of them but the last,
// so the sponge's 8-element blocks line up), N values each, one after another in `values`.

// count: the group's polynomials times N; a: log2(N); b: n, the coefficients per polynomial.
@compute @workgroup_size(64)
fn scale_coeffs(inv: Invocation) {
    let t = thread_index(inv);
    if t >= params.count {
        return;
    }
    let poly = t >> params.a;
    let i = t & ((1u << params.a) - 1u);
    if i < params.b {
        values[t] = gl_mul(input[poly * params.b + i], shift_powers[i]);
    } else {
        values[t] = vec2<u32>(0u, 0u);
    }
}

// One stage of the DIF NTT over pairs `half` apart. count: the group's polynomials times N/2;
// a: log2(half); b: log2(N); c: log2(N / (2 half)), the stride into the twiddles.
@compute @workgroup_size(64)
fn dif_stage(inv: Invocation) {
    let t = thread_index(inv);
    if t >= params.count {
        return;
    }
    let poly = t >> (params.b - 1u);
    let k = t & ((1u << (params.b - 1u)) - 1u);
    let j = k & ((1u << params.a) - 1u);
    let base = (poly << params.b) + ((k >> params.a) << (params.a + 1u)) + j;
    let u = values[base];
    let v = values[base + (1u << params.a)];
    values[base] = gl_add(u, v);
    values[base + (1u << params.a)] = gl_mul(gl_sub(u, v), twiddles[j << params.c]);
}

// Absorbs the group's values at leaf i into leaf i's sponge (overwrite mode, rate 8), as
// `hash_n_to_hash_no_pad` over the whole leaf would. count: N; a: polynomials in the group.
@compute @workgroup_size(64)
fn absorb(inv: Invocation) {
    let i = thread_index(inv);
    if i >= params.count {
        return;
    }
    var s = load_state(i);
    for (var off = 0u; off < params.a; off += 8u) {
        let n = min(8u, params.a - off);
        for (var k = 0u; k < n; k++) {
            s[k] = values[(off + k) * params.count + i];
        }
        permute(&s);
    }
    store_state(i, s);
}

// The leaves' digests out of their sponges. count: N; b: the digest index of the first.
@compute @workgroup_size(64)
fn squeeze(inv: Invocation) {
    let i = thread_index(inv);
    if i >= params.count {
        return;
    }
    for (var k = 0u; k < 4u; k++) {
        digests[(params.b + i) * 4u + k] = states[i * 12u + k];
    }
}
