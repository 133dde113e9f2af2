/* lstm_shapes.h — the LSTM-340's product shapes, for bench/gemm_shapes.c and
 * bench/xsmm_shapes.c: C (M × N) = A (M × K) · B (K × N), A stored
 * transposed where trans is set. */
#ifndef RC_BENCH_LSTM_SHAPES_H
#define RC_BENCH_LSTM_SHAPES_H

static const struct { const char *name; int M, N, K, trans; } lstm_shapes[] = {
    { "forward 128 x 704 x 340", 128, 704, 340, 0 },
    { "forward 20 x 704 x 340", 20, 704, 340, 0 },
    { "dh 128 x 176 x 1360", 128, 176, 1360, 0 },
    { "dW_h 704 x 340 x 300 (A^T)", 704, 340, 300, 1 },
    { "512 x 512 x 512", 512, 512, 512, 0 },
};
enum { N_LSTM_SHAPES = sizeof lstm_shapes / sizeof lstm_shapes[0] };

#endif
