// llamats' own WebAssembly SIMD kernels. They run on tfjs-backend-wasm's memory (imported), so
// every pointer is a byte offset of a tensor in that heap: no copies in or out.
// Rules that keep them safe there: no static data, no libc, no address-taken locals (so the
// shadow stack, which would overlap tfjs's heap, is never touched; the build script checks it).
// Build: node packages/core/scripts/build-kernels.mjs (clang with the wasm32 target).

#include <wasm_simd128.h>

#define KC 384 // Largest K block: a packed 384 × 8 panel of B is 12 KiB and stays in L1.

static inline v128_t splat(float x) { return wasm_f32x4_splat(x); }

// acc + x·y. The FMA build (relaxed SIMD) fuses it: clang 14 only knows the pre-standard qfma opcode,
// whose operands (a + b·c) the build script re-labels as f32x4.relaxed_madd (x·y + acc), same stack order.
#ifdef LLAMATS_FMA
#define MADD(acc, x, y) __builtin_wasm_fma_f32x4((x), (y), (acc))
#else
#define MADD(acc, x, y) wasm_f32x4_add((acc), wasm_f32x4_mul((x), (y)))
#endif

// Packs B[k0:k0+kc, j0:j0+nc] (nc <= 8) as kc rows of 8, zero-padded; B is [K, N] or, transposed, [N, K].
static void pack_b(const float *B, int ldb, int trans_b, int k0, int kc, int j0, int nc, float *P) {
  if (!trans_b) {
    const float *row = B + (long)k0 * ldb + j0;
    if (nc == 8) {
      for (int k = 0; k < kc; k++, row += ldb) {
        wasm_v128_store(P + 8 * k, wasm_v128_load(row));
        wasm_v128_store(P + 8 * k + 4, wasm_v128_load(row + 4));
      }
    } else {
      for (int k = 0; k < kc; k++, row += ldb)
        for (int j = 0; j < 8; j++) P[8 * k + j] = j < nc ? row[j] : 0.0f;
    }
    return;
  }
  for (int j = 0; j < 8; j++) {
    if (j < nc) {
      const float *col = B + (long)(j0 + j) * ldb + k0;
      for (int k = 0; k < kc; k++) P[8 * k + j] = col[k];
    } else {
      for (int k = 0; k < kc; k++) P[8 * k + j] = 0.0f;
    }
  }
}

static inline void store_lanes(float *c, v128_t v, int n, int acc) {
  if (n == 4) {
    wasm_v128_store(c, acc ? wasm_f32x4_add(wasm_v128_load(c), v) : v);
    return;
  }
  if (n > 0) c[0] = (acc ? c[0] : 0.0f) + wasm_f32x4_extract_lane(v, 0);
  if (n > 1) c[1] = (acc ? c[1] : 0.0f) + wasm_f32x4_extract_lane(v, 1);
  if (n > 2) c[2] = (acc ? c[2] : 0.0f) + wasm_f32x4_extract_lane(v, 2);
}

static inline void store_row8(float *c, v128_t lo, v128_t hi, int nr, int acc) {
  store_lanes(c, lo, nr < 4 ? nr : 4, acc);
  if (nr > 4) store_lanes(c + 4, hi, nr - 4, acc);
}

// C[4 rows, 8 cols] (+)= A[4 rows, kc] · P[kc, 8]; A is row-major (lda) or, transposed, [kc, M] (lda = M).
static void micro_4x8(const float *A, int lda, int trans_a, int mr, const float *P, int kc, float *C, int ldc, int nr, int acc) {
  v128_t c00 = splat(0), c01 = splat(0), c10 = splat(0), c11 = splat(0);
  v128_t c20 = splat(0), c21 = splat(0), c30 = splat(0), c31 = splat(0);
  if (!trans_a) {
    const float *a0 = A;
    const float *a1 = mr > 1 ? A + lda : A;
    const float *a2 = mr > 2 ? A + 2 * lda : A;
    const float *a3 = mr > 3 ? A + 3 * lda : A;
    for (int k = 0; k < kc; k++) {
      v128_t b0 = wasm_v128_load(P + 8 * k), b1 = wasm_v128_load(P + 8 * k + 4);
      v128_t x0 = wasm_v128_load32_splat(a0 + k), x1 = wasm_v128_load32_splat(a1 + k);
      v128_t x2 = wasm_v128_load32_splat(a2 + k), x3 = wasm_v128_load32_splat(a3 + k);
      c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1);
      c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1);
      c20 = MADD(c20, x2, b0); c21 = MADD(c21, x2, b1);
      c30 = MADD(c30, x3, b0); c31 = MADD(c31, x3, b1);
    }
  } else if (mr == 4) {
    for (int k = 0; k < kc; k++) {
      v128_t b0 = wasm_v128_load(P + 8 * k), b1 = wasm_v128_load(P + 8 * k + 4);
      v128_t a = wasm_v128_load(A + (long)k * lda);
      v128_t x0 = wasm_i32x4_shuffle(a, a, 0, 0, 0, 0), x1 = wasm_i32x4_shuffle(a, a, 1, 1, 1, 1);
      v128_t x2 = wasm_i32x4_shuffle(a, a, 2, 2, 2, 2), x3 = wasm_i32x4_shuffle(a, a, 3, 3, 3, 3);
      c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1);
      c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1);
      c20 = MADD(c20, x2, b0); c21 = MADD(c21, x2, b1);
      c30 = MADD(c30, x3, b0); c31 = MADD(c31, x3, b1);
    }
  } else {
    // Fewer than 4 columns of A^T left: read them one by one (a vector load could run past the tensor).
    for (int k = 0; k < kc; k++) {
      v128_t b0 = wasm_v128_load(P + 8 * k), b1 = wasm_v128_load(P + 8 * k + 4);
      const float *a = A + (long)k * lda;
      v128_t x0 = splat(a[0]), x1 = splat(mr > 1 ? a[1] : 0.0f), x2 = splat(mr > 2 ? a[2] : 0.0f);
      c00 = MADD(c00, x0, b0); c01 = MADD(c01, x0, b1);
      c10 = MADD(c10, x1, b0); c11 = MADD(c11, x1, b1);
      c20 = MADD(c20, x2, b0); c21 = MADD(c21, x2, b1);
    }
  }
  if (nr == 8 && mr == 4) {
    float *r0 = C, *r1 = C + ldc, *r2 = C + 2 * ldc, *r3 = C + 3 * ldc;
    if (acc) {
      c00 = wasm_f32x4_add(c00, wasm_v128_load(r0)); c01 = wasm_f32x4_add(c01, wasm_v128_load(r0 + 4));
      c10 = wasm_f32x4_add(c10, wasm_v128_load(r1)); c11 = wasm_f32x4_add(c11, wasm_v128_load(r1 + 4));
      c20 = wasm_f32x4_add(c20, wasm_v128_load(r2)); c21 = wasm_f32x4_add(c21, wasm_v128_load(r2 + 4));
      c30 = wasm_f32x4_add(c30, wasm_v128_load(r3)); c31 = wasm_f32x4_add(c31, wasm_v128_load(r3 + 4));
    }
    wasm_v128_store(r0, c00); wasm_v128_store(r0 + 4, c01);
    wasm_v128_store(r1, c10); wasm_v128_store(r1 + 4, c11);
    wasm_v128_store(r2, c20); wasm_v128_store(r2 + 4, c21);
    wasm_v128_store(r3, c30); wasm_v128_store(r3 + 4, c31);
    return;
  }
  store_row8(C, c00, c01, nr, acc);
  if (mr > 1) store_row8(C + ldc, c10, c11, nr, acc);
  if (mr > 2) store_row8(C + 2 * ldc, c20, c21, nr, acc);
  if (mr > 3) store_row8(C + 3 * ldc, c30, c31, nr, acc);
}

static inline float hsum(v128_t s) {
  return (wasm_f32x4_extract_lane(s, 0) + wasm_f32x4_extract_lane(s, 1)) + (wasm_f32x4_extract_lane(s, 2) + wasm_f32x4_extract_lane(s, 3));
}

// Few rows (decode): C[rows, j0:j1] (+)= A · B, A's element (i, k) at A[i * a_rs + k * a_ks]; streams B once, no packing.
static void gemm_small_m(const float *A, int a_rs, int a_ks, const float *B, float *C, int ldc, int rows, int N, int K, int trans_b, int j0, int j1, int acc) {
  for (int i = 0; i < rows; i++) {
    const float *a = A + (long)i * a_rs;
    float *c = C + (long)i * ldc;
    if (!trans_b) {
      // k outer over column chunks that stay in L1: each row of B is read in long contiguous runs.
      for (int jb = j0; jb < j1; jb += 2048) {
        int je = j1 - jb < 2048 ? j1 : jb + 2048;
        int jv = jb + ((je - jb) & ~15);
        if (!acc) for (int j = jb; j < je; j++) c[j] = 0.0f;
        for (int k = 0; k < K; k++) {
          const float *b = B + (long)k * N;
          float ak = a[(long)k * a_ks];
          v128_t x = splat(ak);
          for (int j = jb; j < jv; j += 16) {
            wasm_v128_store(c + j, MADD(wasm_v128_load(c + j), x, wasm_v128_load(b + j)));
            wasm_v128_store(c + j + 4, MADD(wasm_v128_load(c + j + 4), x, wasm_v128_load(b + j + 4)));
            wasm_v128_store(c + j + 8, MADD(wasm_v128_load(c + j + 8), x, wasm_v128_load(b + j + 8)));
            wasm_v128_store(c + j + 12, MADD(wasm_v128_load(c + j + 12), x, wasm_v128_load(b + j + 12)));
          }
          for (int j = jv; j < je; j++) c[j] += ak * b[j];
        }
      }
    } else {
      int j = j0;
      if (a_ks == 1) {
        // Four rows of B at a time, two k steps per iteration: eight independent sums, B read once in order.
        for (; j + 4 <= j1; j += 4) {
          const float *b0 = B + (long)j * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
          v128_t s0 = splat(0), s1 = splat(0), s2 = splat(0), s3 = splat(0);
          v128_t t0 = splat(0), t1 = splat(0), t2 = splat(0), t3 = splat(0);
          int k = 0;
          for (; k + 8 <= K; k += 8) {
            v128_t x = wasm_v128_load(a + k), y = wasm_v128_load(a + k + 4);
            s0 = MADD(s0, x, wasm_v128_load(b0 + k)); t0 = MADD(t0, y, wasm_v128_load(b0 + k + 4));
            s1 = MADD(s1, x, wasm_v128_load(b1 + k)); t1 = MADD(t1, y, wasm_v128_load(b1 + k + 4));
            s2 = MADD(s2, x, wasm_v128_load(b2 + k)); t2 = MADD(t2, y, wasm_v128_load(b2 + k + 4));
            s3 = MADD(s3, x, wasm_v128_load(b3 + k)); t3 = MADD(t3, y, wasm_v128_load(b3 + k + 4));
          }
          for (; k + 4 <= K; k += 4) {
            v128_t x = wasm_v128_load(a + k);
            s0 = MADD(s0, x, wasm_v128_load(b0 + k));
            s1 = MADD(s1, x, wasm_v128_load(b1 + k));
            s2 = MADD(s2, x, wasm_v128_load(b2 + k));
            s3 = MADD(s3, x, wasm_v128_load(b3 + k));
          }
          float r0 = hsum(wasm_f32x4_add(s0, t0)), r1 = hsum(wasm_f32x4_add(s1, t1));
          float r2 = hsum(wasm_f32x4_add(s2, t2)), r3 = hsum(wasm_f32x4_add(s3, t3));
          for (; k < K; k++) { r0 += a[k] * b0[k]; r1 += a[k] * b1[k]; r2 += a[k] * b2[k]; r3 += a[k] * b3[k]; }
          c[j] = (acc ? c[j] : 0.0f) + r0; c[j + 1] = (acc ? c[j + 1] : 0.0f) + r1;
          c[j + 2] = (acc ? c[j + 2] : 0.0f) + r2; c[j + 3] = (acc ? c[j + 3] : 0.0f) + r3;
        }
      }
      for (; j < j1; j++) {
        const float *b = B + (long)j * K;
        v128_t s = splat(0);
        int k = 0;
        if (a_ks == 1) for (; k + 4 <= K; k += 4) s = MADD(s, wasm_v128_load(a + k), wasm_v128_load(b + k));
        float t = hsum(s);
        for (; k < K; k++) t += a[(long)k * a_ks] * b[k];
        c[j] = (acc ? c[j] : 0.0f) + t;
      }
    }
  }
}

// Batched matmul, one thread's share: batches [b0, b1), output rows [m0, m1), columns [j0, j1).
// A: [M, K] (or [K, M] when trans_a), B: [K, N] (or [N, K] when trans_b), C: [M, N]; batch strides in
// floats (0 broadcasts). acc = 1 adds into C. ldc: C's row stride (0 = N; more writes into columns of a wider
// matrix). panel: KC × 8 floats of scratch for this thread.
void gemm(const float *A, const float *B, float *C, int M, int N, int K, int trans_a, int trans_b,
          int stride_a, int stride_b, int stride_c, int b0, int b1, int m0, int m1, int j0, int j1, int acc, int ldc, float *panel) {
  if (ldc == 0) ldc = N;
  for (int b = b0; b < b1; b++) {
    const float *Ab = A + (long)b * stride_a;
    const float *Bb = B + (long)b * stride_b;
    float *Cb = C + (long)b * stride_c;
    if (K == 0) {
      if (!acc) for (int i = m0; i < m1; i++) for (int j = j0; j < j1; j++) Cb[(long)i * ldc + j] = 0.0f;
      continue;
    }
    if (m1 - m0 < 4) {
      const float *Am = trans_a ? Ab + m0 : Ab + (long)m0 * K;
      gemm_small_m(Am, trans_a ? 1 : K, trans_a ? M : 1, Bb, Cb + (long)m0 * ldc, ldc, m1 - m0, N, K, trans_b, j0, j1, acc);
      continue;
    }
    int lda = trans_a ? M : K;
    int ldb = trans_b ? K : N;
    // K in equal blocks of at most KC (288 → one block, not 256 + 32).
    int blocks = (K + KC - 1) / KC;
    int step = (K + blocks - 1) / blocks;
    for (int k0 = 0; k0 < K; k0 += step) {
      int kc = K - k0 < step ? K - k0 : step;
      int accumulate = acc || k0 > 0;
      for (int j = j0; j < j1; j += 8) {
        int nc = j1 - j < 8 ? j1 - j : 8;
        pack_b(Bb, ldb, trans_b, k0, kc, j, nc, panel);
        for (int i = m0; i < m1; i += 4) {
          int mr = m1 - i < 4 ? m1 - i : 4;
          const float *a = trans_a ? Ab + (long)k0 * lda + i : Ab + (long)i * lda + k0;
          micro_4x8(a, lda, trans_a, mr, panel, kc, Cb + (long)i * ldc + j, ldc, nc, accumulate);
        }
      }
    }
  }
}

// exp on 4 lanes: 2^n · p(r), r = x − n·ln2 in [−ln2/2, ln2/2], degree-7 Taylor (relative error < 2e-7);
// 2^n is applied in two halves so that results near the float range (and subnormals) come out right.
static inline v128_t exp4(v128_t x) {
  v128_t tiny = wasm_f32x4_lt(x, splat(-104.0f));
  x = wasm_f32x4_min(wasm_f32x4_max(x, splat(-104.0f)), splat(89.0f));
  v128_t n = wasm_f32x4_floor(MADD(splat(0.5f), x, splat(1.44269504088896341f)));
  v128_t r = wasm_f32x4_sub(wasm_f32x4_sub(x, wasm_f32x4_mul(n, splat(0.693145751953125f))), wasm_f32x4_mul(n, splat(1.428606765330187e-06f)));
  v128_t p = splat(1.0f / 5040.0f);
  p = MADD(splat(1.0f / 720.0f), p, r);
  p = MADD(splat(1.0f / 120.0f), p, r);
  p = MADD(splat(1.0f / 24.0f), p, r);
  p = MADD(splat(1.0f / 6.0f), p, r);
  p = MADD(splat(0.5f), p, r);
  p = MADD(splat(1.0f), p, r);
  p = MADD(splat(1.0f), p, r);
  v128_t ni = wasm_i32x4_trunc_sat_f32x4(n);
  v128_t half = wasm_i32x4_shr(ni, 1);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(half, wasm_i32x4_splat(127)), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_sub(ni, half), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2), tiny);
}

static inline float exp1(float x) { return wasm_f32x4_extract_lane(exp4(splat(x)), 0); }

static inline float dot(const float *a, const float *b, int n) {
  v128_t s = splat(0);
  int i = 0;
  for (; i + 4 <= n; i += 4) s = MADD(s, wasm_v128_load(a + i), wasm_v128_load(b + i));
  float t = hsum(s);
  for (; i < n; i++) t += a[i] * b[i];
  return t;
}

// out = x · rsqrt(mean(x²) + eps) · w, row by row (LLaMA's RMSNorm).
void rms_norm(const float *x, const float *w, float *out, int rows, int dim, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * dim;
    float *o = out + (long)r * dim;
    v128_t inv = splat(1.0f / __builtin_sqrtf(dot(xr, xr, dim) / (float)dim + eps));
    int i = 0;
    for (; i + 4 <= dim; i += 4) wasm_v128_store(o + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(xr + i), inv), wasm_v128_load(w + i)));
    for (; i < dim; i++) o[i] = xr[i] * wasm_f32x4_extract_lane(inv, 0) * w[i];
  }
}

// RMSNorm's dx, row by row: dx = s·w·dy − x·s³·mean(dy·w·x), s = rsqrt(mean(x²) + eps).
void rms_norm_grad_x(const float *x, const float *w, const float *dy, float *dx, int rows, int dim, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * dim, *g = dy + (long)r * dim;
    float *o = dx + (long)r * dim;
    float s = 1.0f / __builtin_sqrtf(dot(xr, xr, dim) / (float)dim + eps);
    v128_t acc = splat(0);
    int i = 0;
    for (; i + 4 <= dim; i += 4) acc = MADD(acc, wasm_f32x4_mul(wasm_v128_load(g + i), wasm_v128_load(w + i)), wasm_v128_load(xr + i));
    float d = hsum(acc);
    for (; i < dim; i++) d += g[i] * w[i] * xr[i];
    float coef = d * s * s * s / (float)dim;
    v128_t sv = splat(s), cv = splat(coef);
    i = 0;
    for (; i + 4 <= dim; i += 4) {
      v128_t scaled = wasm_f32x4_mul(wasm_f32x4_mul(sv, wasm_v128_load(w + i)), wasm_v128_load(g + i));
      wasm_v128_store(o + i, wasm_f32x4_sub(scaled, wasm_f32x4_mul(wasm_v128_load(xr + i), cv)));
    }
    for (; i < dim; i++) o[i] = s * w[i] * g[i] - xr[i] * coef;
  }
}

// scales[r] = rsqrt(mean(x[r]²) + eps) for rows [r0, r1).
void rms_scales(const float *x, float *scales, int dim, float eps, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const float *xr = x + (long)r * dim;
    scales[r] = 1.0f / __builtin_sqrtf(dot(xr, xr, dim) / (float)dim + eps);
  }
}

// RMSNorm's dweight for columns [c0, c1): dw[c] = Σ_rows dy·x·scales[row] (one thread's columns: no sums to merge).
void rms_norm_grad_w(const float *x, const float *dy, const float *scales, float *dw, int rows, int dim, int c0, int c1) {
  for (int c = c0; c < c1; c++) dw[c] = 0.0f;
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * dim, *g = dy + (long)r * dim;
    v128_t s = splat(scales[r]);
    int c = c0;
    for (; c + 4 <= c1; c += 4) wasm_v128_store(dw + c, MADD(wasm_v128_load(dw + c), wasm_f32x4_mul(wasm_v128_load(g + c), wasm_v128_load(xr + c)), s));
    for (; c < c1; c++) dw[c] += g[c] * xr[c] * scales[r];
  }
}

// HF's rotate-half RoPE in place on `count` vectors of size d per row: x·cos + rotate_half(x)·sin,
// with cos/sin [rows, d] (one position per row); vectors start at x + r·row_stride + v·d.
void rope(float *x, const float *cos, const float *sin, int rows, int row_stride, int count, int d) {
  int half = d / 2;
  for (int r = 0; r < rows; r++) {
    const float *c = cos + (long)r * d, *s = sin + (long)r * d;
    for (int v = 0; v < count; v++) {
      float *p = x + (long)r * row_stride + (long)v * d;
      for (int i = 0; i < half; i++) {
        float a = p[i], b = p[i + half];
        p[i] = a * c[i] - b * s[i];
        p[i + half] = b * c[i + half] + a * s[i + half];
      }
    }
  }
}

// RoPE as an op, out of place, on vectors [v0, v1) of x [batch, heads, seq, d] (inner 1) or [batch, seq, heads, d]
// (inner = heads), per_batch = heads · seq vectors, tables [1 or batch, seq, d] (table_batch: 1 when there is one per
// batch row, else 0). transposed runs the gradient: (a, b) → (a·cos + b·sin', b·cos' − a·sin), sin read at the
// partner's column.
void rope_rotate(const float *x, const float *cos, const float *sin, float *out, int d, int seq, int per_batch, int inner,
                 int table_batch, int transposed, int v0, int v1) {
  int half = d / 2;
  for (int v = v0; v < v1; v++) {
    int b = v / per_batch, s = (v / inner) % seq;
    const float *c = cos + ((long)b * table_batch * seq + s) * d, *sn = sin + ((long)b * table_batch * seq + s) * d;
    const float *p = x + (long)v * d;
    float *o = out + (long)v * d;
    int i = 0;
    if (!transposed) {
      for (; i + 4 <= half; i += 4) {
        v128_t a = wasm_v128_load(p + i), q = wasm_v128_load(p + half + i);
        wasm_v128_store(o + i, wasm_f32x4_sub(wasm_f32x4_mul(a, wasm_v128_load(c + i)), wasm_f32x4_mul(q, wasm_v128_load(sn + i))));
        wasm_v128_store(o + half + i, MADD(wasm_f32x4_mul(q, wasm_v128_load(c + half + i)), a, wasm_v128_load(sn + half + i)));
      }
      for (; i < half; i++) {
        float a = p[i], q = p[half + i];
        o[i] = a * c[i] - q * sn[i];
        o[half + i] = q * c[half + i] + a * sn[half + i];
      }
    } else {
      for (; i + 4 <= half; i += 4) {
        v128_t a = wasm_v128_load(p + i), q = wasm_v128_load(p + half + i);
        wasm_v128_store(o + i, MADD(wasm_f32x4_mul(a, wasm_v128_load(c + i)), q, wasm_v128_load(sn + half + i)));
        wasm_v128_store(o + half + i, wasm_f32x4_sub(wasm_f32x4_mul(q, wasm_v128_load(c + half + i)), wasm_f32x4_mul(a, wasm_v128_load(sn + i))));
      }
      for (; i < half; i++) {
        float a = p[i], q = p[half + i];
        o[i] = a * c[i] + q * sn[half + i];
        o[half + i] = q * c[half + i] - a * sn[i];
      }
    }
  }
}

// One query per row against a KV cache [batch, kv_heads, capacity, d] (first `len` positions filled):
// out[b, h·d:(h+1)·d] = softmax(q·Kᵀ·scale + mask[b]) · V for the (b, h) pairs [p0, p1); mask is an
// additive [batch, capacity] row or 0; scores is `len` floats of this thread's scratch.
void attend(const float *q, int q_stride, const float *kc, const float *vc, float *out, const float *mask,
            int heads, int kv_heads, int d, int capacity, int len, float scale, int p0, int p1, float *scores) {
  int groups = heads / kv_heads;
  // Four keys (or values) at a time when rows are whole vectors; every sum keeps the order of the one-at-a-time
  // loop, so the result is bit-identical to it.
  int t4 = d % 4 == 0 ? len & ~3 : 0;
  for (int p = p0; p < p1; p++) {
    int b = p / heads, h = p % heads, kvh = h / groups;
    const float *qv = q + (long)b * q_stride + (long)h * d;
    const float *keys = kc + ((long)b * kv_heads + kvh) * capacity * d;
    const float *vals = vc + ((long)b * kv_heads + kvh) * capacity * d;
    const float *m = mask ? mask + (long)b * capacity : 0;
    v128_t mx4 = splat(-3.4e38f);
    for (int t = 0; t < t4; t += 4) {
      const float *k0 = keys + (long)t * d;
      v128_t s0 = splat(0), s1 = splat(0), s2 = splat(0), s3 = splat(0);
      for (int i = 0; i < d; i += 4) {
        v128_t qi = wasm_v128_load(qv + i);
        s0 = MADD(s0, qi, wasm_v128_load(k0 + i));
        s1 = MADD(s1, qi, wasm_v128_load(k0 + d + i));
        s2 = MADD(s2, qi, wasm_v128_load(k0 + 2 * d + i));
        s3 = MADD(s3, qi, wasm_v128_load(k0 + 3 * d + i));
      }
      // Lane j = hsum(s_j), added as hsum adds: (l0 + l1) + (l2 + l3).
      v128_t a01 = wasm_f32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 2, 6), wasm_i32x4_shuffle(s0, s1, 1, 5, 3, 7));
      v128_t a23 = wasm_f32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 2, 6), wasm_i32x4_shuffle(s2, s3, 1, 5, 3, 7));
      v128_t s = wasm_f32x4_add(wasm_i32x4_shuffle(a01, a23, 0, 1, 4, 5), wasm_i32x4_shuffle(a01, a23, 2, 3, 6, 7));
      s = wasm_f32x4_mul(s, splat(scale));
      if (m) s = wasm_f32x4_add(s, wasm_v128_load(m + t));
      wasm_v128_store(scores + t, s);
      mx4 = wasm_f32x4_max(mx4, s);
    }
    float mx = -3.4e38f;
    for (int l = 0; l < 4; l++) {
      float v = l == 0 ? wasm_f32x4_extract_lane(mx4, 0) : l == 1 ? wasm_f32x4_extract_lane(mx4, 1) : l == 2 ? wasm_f32x4_extract_lane(mx4, 2) : wasm_f32x4_extract_lane(mx4, 3);
      if (v > mx) mx = v;
    }
    for (int t = t4; t < len; t++) {
      float s = dot(qv, keys + (long)t * d, d) * scale;
      if (m) s += m[t];
      scores[t] = s;
      if (s > mx) mx = s;
    }
    float sum = 0.0f;
    int e4 = len & ~3;
    for (int t = 0; t < e4; t += 4) {
      v128_t e = exp4(wasm_f32x4_sub(wasm_v128_load(scores + t), splat(mx)));
      wasm_v128_store(scores + t, e);
      sum += wasm_f32x4_extract_lane(e, 0);
      sum += wasm_f32x4_extract_lane(e, 1);
      sum += wasm_f32x4_extract_lane(e, 2);
      sum += wasm_f32x4_extract_lane(e, 3);
    }
    for (int t = e4; t < len; t++) {
      float e = exp1(scores[t] - mx);
      scores[t] = e;
      sum += e;
    }
    float inv = 1.0f / sum;
    float *o = out + (long)b * heads * d + (long)h * d;
    for (int i = 0; i < d; i++) o[i] = 0.0f;
    for (int t = 0; t < t4; t += 4) {
      v128_t w0 = splat(scores[t] * inv), w1 = splat(scores[t + 1] * inv);
      v128_t w2 = splat(scores[t + 2] * inv), w3 = splat(scores[t + 3] * inv);
      const float *v = vals + (long)t * d;
      for (int i = 0; i < d; i += 4) {
        v128_t acc = MADD(wasm_v128_load(o + i), w0, wasm_v128_load(v + i));
        acc = MADD(acc, w1, wasm_v128_load(v + d + i));
        acc = MADD(acc, w2, wasm_v128_load(v + 2 * d + i));
        wasm_v128_store(o + i, MADD(acc, w3, wasm_v128_load(v + 3 * d + i)));
      }
    }
    for (int t = t4; t < len; t++) {
      v128_t w = splat(scores[t] * inv);
      const float *v = vals + (long)t * d;
      int i = 0;
      for (; i + 4 <= d; i += 4) wasm_v128_store(o + i, MADD(wasm_v128_load(o + i), w, wasm_v128_load(v + i)));
      for (; i < d; i++) o[i] += scores[t] * inv * v[i];
    }
  }
}

static inline v128_t sigmoid4(v128_t x) { return wasm_f32x4_div(splat(1.0f), wasm_f32x4_add(splat(1.0f), exp4(wasm_f32x4_neg(x)))); }

static inline float sigmoid1(float x) { return 1.0f / (1.0f + exp1(-x)); }

// SwiGLU's gating, out = silu(g) · u, over `rows` rows of `cols`: row r of g and u starts at r·in_stride, of out at
// r·out_stride (the decode step's [gate | up] rows: u = g + ffn, in_stride = 2·ffn; the op: one row).
void silu_mul(const float *g, const float *u, float *out, int rows, int cols, int in_stride, int out_stride) {
  for (int r = 0; r < rows; r++) {
    const float *gr = g + (long)r * in_stride, *ur = u + (long)r * in_stride;
    float *o = out + (long)r * out_stride;
    int i = 0;
    for (; i + 4 <= cols; i += 4) {
      v128_t x = wasm_v128_load(gr + i);
      wasm_v128_store(o + i, wasm_f32x4_mul(wasm_f32x4_mul(x, sigmoid4(x)), wasm_v128_load(ur + i)));
    }
    for (; i < cols; i++) o[i] = gr[i] * sigmoid1(gr[i]) * ur[i];
  }
}

// SwiGLU's gradient in one pass over n elements, s = sigmoid(g): dg = dy·u·s·(1 + g·(1 − s)), du = dy·g·s.
// Either output may be 0 (not wanted); u is read only for dg.
void swiglu_grad(const float *g, const float *u, const float *dy, float *dg, float *du, int n) {
  int i = 0;
  v128_t one = splat(1.0f);
  if (dg && du) {
    for (; i + 4 <= n; i += 4) {
      v128_t x = wasm_v128_load(g + i), s = sigmoid4(x), d = wasm_v128_load(dy + i);
      v128_t ds = wasm_f32x4_mul(d, s);
      wasm_v128_store(du + i, wasm_f32x4_mul(ds, x));
      wasm_v128_store(dg + i, wasm_f32x4_mul(wasm_f32x4_mul(ds, wasm_v128_load(u + i)), MADD(one, x, wasm_f32x4_sub(one, s))));
    }
  } else if (dg) {
    for (; i + 4 <= n; i += 4) {
      v128_t x = wasm_v128_load(g + i), s = sigmoid4(x), d = wasm_v128_load(dy + i);
      wasm_v128_store(dg + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_mul(d, s), wasm_v128_load(u + i)), MADD(one, x, wasm_f32x4_sub(one, s))));
    }
  } else if (du) {
    for (; i + 4 <= n; i += 4) {
      v128_t x = wasm_v128_load(g + i);
      wasm_v128_store(du + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(dy + i), sigmoid4(x)), x));
    }
  }
  for (; i < n; i++) {
    float s = sigmoid1(g[i]);
    if (dg) dg[i] = dy[i] * s * u[i] * (1.0f + g[i] * (1.0f - s));
    if (du) du[i] = dy[i] * s * g[i];
  }
}

// Elementwise exp over n floats (tfjs's Exp runs a scalar libm exp).
void exp_n(const float *x, float *out, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, exp4(wasm_v128_load(x + i)));
  for (; i < n; i++) out[i] = exp1(x[i]);
}

// An idle worker's job when a call has fewer shares than threads.
void noop(void) {}

// Natural log for x > 0: x = m·2^e with m in [√½, √2), log m = 2·atanh(t), t = (m − 1)/(m + 1), |t| < 0.172.
static inline float log1(float x) {
  int bits = wasm_i32x4_extract_lane(wasm_f32x4_splat(x), 0);
  int e = ((bits >> 23) & 0xff) - 127;
  float m = wasm_f32x4_extract_lane(wasm_i32x4_splat((bits & 0x007fffff) | 0x3f800000), 0);
  if (m > 1.41421356f) { m *= 0.5f; e += 1; }
  float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
  float series = t * (2.0f + t2 * (2.0f / 3.0f + t2 * (2.0f / 5.0f + t2 * (2.0f / 7.0f + t2 * (2.0f / 9.0f)))));
  return (float)e * 0.693147180559945f + series;
}

static inline float row_max(const float *row, int vocab) {
  v128_t mv = splat(-3.4e38f);
  int i = 0;
  for (; i + 4 <= vocab; i += 4) mv = wasm_f32x4_max(mv, wasm_v128_load(row + i));
  float m = wasm_f32x4_extract_lane(mv, 0);
  for (int l = 1; l < 4; l++) {
    float v = l == 1 ? wasm_f32x4_extract_lane(mv, 1) : l == 2 ? wasm_f32x4_extract_lane(mv, 2) : wasm_f32x4_extract_lane(mv, 3);
    if (v > m) m = v;
  }
  for (; i < vocab; i++) if (row[i] > m) m = row[i];
  return m;
}

static inline float row_logsumexp(const float *row, int vocab) {
  float m = row_max(row, vocab);
  v128_t sv = splat(0), mm = splat(m);
  int i = 0;
  for (; i + 4 <= vocab; i += 4) sv = wasm_f32x4_add(sv, exp4(wasm_f32x4_sub(wasm_v128_load(row + i), mm)));
  float s = hsum(sv);
  for (; i < vocab; i++) s += exp1(row[i] - m);
  return m + log1(s);
}

// Softmax cross-entropy over rows [r0, r1) of logits [rows, vocab] with int32 targets. Without grad:
// nll[r] = logsumexp(row) − row[target], and lse[r] = logsumexp(row) when lse is not 0. With grad:
// grad[r] = (softmax(row) − onehot(target)) · dy[r], from lse[r] when given (else computed again).
// A negative target marks a row not counted: nll, lse and its gradient row are 0, and it costs nothing.
void cross_entropy(const float *x, const int *targets, float *nll, const float *dy, float *grad, float *lse, int vocab, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const float *row = x + (long)r * vocab;
    int target = targets[r];
    if (!grad) {
      float l = target < 0 ? 0.0f : row_logsumexp(row, vocab);
      nll[r] = target < 0 ? 0.0f : l - row[target];
      if (lse) lse[r] = l;
      continue;
    }
    float *out = grad + (long)r * vocab;
    int i = 0;
    if (target < 0) {
      for (; i + 4 <= vocab; i += 4) wasm_v128_store(out + i, splat(0));
      for (; i < vocab; i++) out[i] = 0.0f;
      continue;
    }
    float l = lse ? lse[r] : row_logsumexp(row, vocab);
    float g = dy[r];
    v128_t lv = splat(l), gv = splat(g);
    for (; i + 4 <= vocab; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(exp4(wasm_f32x4_sub(wasm_v128_load(row + i), lv)), gv));
    for (; i < vocab; i++) out[i] = exp1(row[i] - l) * g;
    out[target] -= g;
  }
}

// ---- Packed frozen weights: x · Wᵀ and dy · W with W [rows_w, cols] unpacked inside the matmul ----
// format 1: bfloat16, two a 32-bit word (even element in the low half); 2: Q8_0, four int8 a word, a float32 scale
// per 32 values; 3: NF4, eight nibbles a word (per byte the even element in the high nibble), a float32 absmax per
// `block` values, `nf4` the 16 code values. Only a panel (KC × 8 floats) is ever unpacked at once.

static inline float float_of_bits(unsigned bits) { return wasm_f32x4_extract_lane(wasm_i32x4_splat((int)bits), 0); }

// dst[i · stride] = W's flat element at + i, for i < count (a run inside one row).
static void unpack_run(int format, const unsigned *w, const float *scales, const float *nf4, int block, long at, int count,
                       float *dst, int stride) {
  if (format == 1) {
    for (int i = 0; i < count; i++) {
      long f = at + i;
      unsigned word = w[f >> 1];
      dst[(long)i * stride] = float_of_bits((f & 1) ? (word & 0xffff0000u) : (word << 16));
    }
  } else if (format == 2) {
    const signed char *q = (const signed char *)w;
    for (int i = 0; i < count; i++) {
      long f = at + i;
      dst[(long)i * stride] = (float)q[f] * scales[f >> 5];
    }
  } else {
    const unsigned char *bytes = (const unsigned char *)w;
    for (int i = 0; i < count; i++) {
      long f = at + i;
      unsigned byte = bytes[f >> 1];
      dst[(long)i * stride] = nf4[(f & 1) ? (byte & 15u) : (byte >> 4)] * scales[f / block];
    }
  }
}

// The panel of B = Wᵀ (trans_w: B(k, j) = W[j][k], the forward) or W (B(k, j) = W[k][j], dX), rows k0.., columns j0..
static void pack_w(int format, const unsigned *w, const float *scales, const float *nf4, int block, int cols, int trans_w,
                   int k0, int kc, int j0, int nc, float *P) {
  if (trans_w) {
    for (int j = 0; j < 8; j++) {
      if (j < nc) unpack_run(format, w, scales, nf4, block, (long)(j0 + j) * cols + k0, kc, P + j, 8);
      else for (int k = 0; k < kc; k++) P[8 * k + j] = 0.0f;
    }
    return;
  }
  for (int k = 0; k < kc; k++) {
    unpack_run(format, w, scales, nf4, block, (long)(k0 + k) * cols + j0, nc, P + 8 * k, 1);
    for (int j = nc; j < 8; j++) P[8 * k + j] = 0.0f;
  }
}

// C[M, N] = A[M, K] · B, one thread's rows [m0, m1) and columns [j0, j1); B from the packed W [.., cols] as pack_w
// reads it (trans_w: forward, N = out features, K = cols; else dX, N = cols, K = out features). panel: KC × 8 floats.
void packed_matmul(const float *A, const unsigned *w, const float *scales, const float *nf4, float *C, int M, int N, int K,
                   int format, int block, int cols, int trans_w, int m0, int m1, int j0, int j1, float *panel) {
  if (K == 0) {
    for (int i = m0; i < m1; i++) for (int j = j0; j < j1; j++) C[(long)i * N + j] = 0.0f;
    return;
  }
  int blocks = (K + KC - 1) / KC;
  int step = (K + blocks - 1) / blocks;
  for (int k0 = 0; k0 < K; k0 += step) {
    int kc = K - k0 < step ? K - k0 : step;
    for (int j = j0; j < j1; j += 8) {
      int nc = j1 - j < 8 ? j1 - j : 8;
      pack_w(format, w, scales, nf4, block, cols, trans_w, k0, kc, j, nc, panel);
      for (int i = m0; i < m1; i += 4) {
        int mr = m1 - i < 4 ? m1 - i : 4;
        micro_4x8(A + (long)i * K + k0, K, 0, mr, panel, kc, C + (long)i * N + j, N, nc, k0 > 0);
      }
    }
  }
}

// ---- Fast 8-bit decode: activations quantized to int8 per 32 (as llama.cpp's q8_0 × q8_0 dot), integer SIMD dots ----

// xq[r·k + i] = nearest-even(x · id), xd[r·k/32 + b] = d, with d = amax/127 and id = 1/d (0 for a zero block), per
// 32-block of each of `rows` rows of k floats (k a multiple of 32).
void quantize_q8_rows(const float *x, signed char *xq, float *xd, int rows, int k) {
  int blocks = k / 32;
  for (int r = 0; r < rows; r++) {
    for (int b = 0; b < blocks; b++) {
      const float *v = x + (long)r * k + b * 32;
      v128_t m = splat(0);
      for (int i = 0; i < 32; i += 4) m = wasm_f32x4_max(m, wasm_f32x4_abs(wasm_v128_load(v + i)));
      float amax = wasm_f32x4_extract_lane(m, 0);
      for (int l = 1; l < 4; l++) {
        float t = l == 1 ? wasm_f32x4_extract_lane(m, 1) : l == 2 ? wasm_f32x4_extract_lane(m, 2) : wasm_f32x4_extract_lane(m, 3);
        if (t > amax) amax = t;
      }
      float d = amax / 127.0f;
      float id = d != 0.0f ? 1.0f / d : 0.0f;
      xd[(long)r * blocks + b] = d;
      v128_t idv = splat(id);
      signed char *q = xq + (long)r * k + b * 32;
      for (int i = 0; i < 32; i += 16) {
        v128_t a = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(v + i), idv)));
        v128_t b1 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(v + i + 4), idv)));
        v128_t c = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(v + i + 8), idv)));
        v128_t e = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(v + i + 12), idv)));
        wasm_v128_store(q + i, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a, b1), wasm_i16x8_narrow_i32x4(c, e)));
      }
    }
  }
}

// y[r, j] (+)= Σ_b isum_b(xq[r], w[j]) · xd[r, b] · scales[j, b] for outputs [j0, j1) of `rows` rows: Q8_0 weights
// [n, k] (int8 codes, a float32 scale per 32), each 32-block's integer dot by i32x4.dot_i16x8_s on widening loads.
// ldc: y's row stride (0 = n); accumulate = 1 adds into y (the decode step's residual projections).
static void q8_dot_rows(const signed char *xq, const float *xd, const signed char *w, const float *scales, float *y,
                        int rows, int n, int k, int j0, int j1, int ldc, int accumulate) {
  if (ldc == 0) ldc = n;
  int blocks = k / 32;
  for (int j = j0; j < j1; j++) {
    const signed char *wr = w + (long)j * k;
    const float *ws = scales + (long)j * blocks;
    for (int r = 0; r < rows; r++) {
      const signed char *xr = xq + (long)r * k;
      const float *xs = xd + (long)r * blocks;
      v128_t acc = splat(0);
      int b = 0;
      for (; b + 4 <= blocks; b += 4) {
        // Four blocks' integer sums, one a lane, then scaled together.
        v128_t s0 = splat(0), s1 = splat(0), s2 = splat(0), s3 = splat(0);
        for (int t = 0; t < 4; t++) {
          const signed char *xa = xr + (b + t) * 32, *wa = wr + (b + t) * 32;
          // Loads that widen 8 int8 to int16 as they read (one pmovsxbw each on x64).
          v128_t p = wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(xa), wasm_i16x8_load8x8(wa));
          p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(xa + 8), wasm_i16x8_load8x8(wa + 8)));
          p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(xa + 16), wasm_i16x8_load8x8(wa + 16)));
          p = wasm_i32x4_add(p, wasm_i32x4_dot_i16x8(wasm_i16x8_load8x8(xa + 24), wasm_i16x8_load8x8(wa + 24)));
          if (t == 0) s0 = p; else if (t == 1) s1 = p; else if (t == 2) s2 = p; else s3 = p;
        }
        // Transpose-add: lane t = the whole sum of block b + t.
        v128_t a01 = wasm_i32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
        v128_t a23 = wasm_i32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
        v128_t sums = wasm_i32x4_add(wasm_i32x4_shuffle(a01, a23, 0, 1, 4, 5), wasm_i32x4_shuffle(a01, a23, 2, 3, 6, 7));
        v128_t scale = wasm_f32x4_mul(wasm_v128_load(xs + b), wasm_v128_load(ws + b));
        acc = MADD(acc, wasm_f32x4_convert_i32x4(sums), scale);
      }
      float total = hsum(acc);
      for (; b < blocks; b++) {
        int isum = 0;
        for (int t = 0; t < 32; t++) isum += (int)xr[b * 32 + t] * (int)wr[b * 32 + t];
        total += (float)isum * (xs[b] * ws[b]);
      }
      float *out = y + (long)r * ldc + j;
      *out = accumulate ? *out + total : total;
    }
  }
}

// Several Q8_0 matmuls of the same quantized rows (the decode step's q, k and v; gate and up) as one share of work:
// matmul i is desc[6i .. 6i+5] = (w, scales, y, n, ldc, accumulate), and [c0, c1) counts output columns over all of
// them in order, so one job per thread covers them all.
void q8_dot_rows_many(const signed char *xq, const float *xd, const unsigned *desc, int count, int rows, int k, int c0,
                      int c1) {
  int base = 0;
  for (int i = 0; i < count; i++) {
    const unsigned *d = desc + 6 * i;
    int n = (int)d[3];
    int lo = c0 > base ? c0 - base : 0, hi = c1 - base < n ? c1 - base : n;
    if (lo < hi)
      q8_dot_rows(xq, xd, (const signed char *)d[0], (const float *)d[1], (float *)d[2], rows, n, k, lo, hi, (int)d[4],
                  (int)d[5]);
    base += n;
  }
}
