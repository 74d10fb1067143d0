/* An ordinary MPI program that knows nothing about mlsys: it calls MPI_Allreduce,
 * MPI_Reduce_scatter_block and MPI_Allgather on assorted sizes, types, operators and
 * communicators and checks every result itself. CTest runs it plain and with
 * LD_PRELOAD=libmlsys_mpi.so; both must pass, and mlsys's report must show which calls it ran.
 *
 * Calls per run with P >= 4 ranks (P < 4: no split communicators):
 *   MPI_Allreduce   4 types x 4 ops x 5 counts = 80 basic, 1 in place, 1 on each half of a
 *                   split, 1 overlapping a pending wildcard receive (+ 1 final verdict) -> handled
 *                   unsigned, MPI_BAND, user op, MPI_MAXLOC pair, count 0, MPI_COMM_SELF,
 *                   intercommunicator -> the MPI library
 *   MPI_Reduce_scatter_block  2 handled, 1 in place (MPI library)
 *   MPI_Allgather             2 handled (1 in place), 1 with a derived send type (MPI library)
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failures = 0;
static int g_checks = 0;
static int g_rank = 0;

static void check(int ok, const char* what) {
  ++g_checks;
  if (!ok) {
    ++g_failures;
    fprintf(stderr, "allreduce_app: rank %d: FAILED %s\n", g_rank, what);
  }
}

/* Rank r's element i: small integers so float sums are exact in any order. */
static long long value(int r, long long i, int op_is_prod) {
  if (op_is_prod) return ((r + i) % 5 == 0) ? 2 : 1;
  return (long long)((r * 7 + i * 13) % 41) - 20;
}

static long long reduce_ll(long long a, long long b, MPI_Op op) {
  if (op == MPI_SUM) return a + b;
  if (op == MPI_PROD) return a * b;
  if (op == MPI_MAX) return a > b ? a : b;
  return a < b ? a : b;
}

static long long expected(int p, long long i, MPI_Op op) {
  long long acc = value(0, i, op == MPI_PROD);
  for (int r = 1; r < p; ++r) acc = reduce_ll(acc, value(r, i, op == MPI_PROD), op);
  return acc;
}

static void put(void* buf, MPI_Datatype t, long long i, long long v) {
  if (t == MPI_FLOAT) ((float*)buf)[i] = (float)v;
  else if (t == MPI_DOUBLE) ((double*)buf)[i] = (double)v;
  else if (t == MPI_INT) ((int*)buf)[i] = (int)v;
  else ((int64_t*)buf)[i] = (int64_t)v;
}

static long long get(const void* buf, MPI_Datatype t, long long i) {
  if (t == MPI_FLOAT) return (long long)((const float*)buf)[i];
  if (t == MPI_DOUBLE) return (long long)((const double*)buf)[i];
  if (t == MPI_INT) return ((const int*)buf)[i];
  return ((const int64_t*)buf)[i];
}

static void allreduce_case(MPI_Comm comm, MPI_Datatype t, MPI_Op op, long long count, int in_place) {
  int p = 0, r = 0;
  MPI_Comm_size(comm, &p);
  MPI_Comm_rank(comm, &r);
  const size_t bytes = (size_t)(count > 0 ? count : 1) * 8;
  void* in = malloc(bytes);
  void* out = malloc(bytes);
  for (long long i = 0; i < count; ++i) {
    put(in, t, i, value(r, i, op == MPI_PROD));
    put(out, t, i, value(r, i, op == MPI_PROD));
  }
  MPI_Allreduce(in_place ? MPI_IN_PLACE : in, out, (int)count, t, op, comm);
  int ok = 1;
  for (long long i = 0; i < count; ++i) ok = ok && get(out, t, i) == expected(p, i, op);
  char what[128];
  snprintf(what, sizeof what, "allreduce count %lld%s", count, in_place ? " in place" : "");
  check(ok, what);
  free(in);
  free(out);
}

static void bitwise_or(void* in, void* inout, int* len, MPI_Datatype* type) {
  (void)type;
  for (int i = 0; i < *len; ++i) ((int*)inout)[i] |= ((int*)in)[i];
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int p = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &p);

  /* Handled by an interposed library: predefined types and operators. */
  const MPI_Datatype types[] = {MPI_FLOAT, MPI_DOUBLE, MPI_INT, MPI_INT64_T};
  const MPI_Op ops[] = {MPI_SUM, MPI_MAX, MPI_MIN, MPI_PROD};
  const long long counts[] = {1, 7, 1000, 4099, 300007};
  for (int t = 0; t < 4; ++t)
    for (int o = 0; o < 4; ++o)
      for (int c = 0; c < 5; ++c) allreduce_case(MPI_COMM_WORLD, types[t], ops[o], counts[c], 0);
  allreduce_case(MPI_COMM_WORLD, MPI_DOUBLE, MPI_SUM, 12345, 1);

  /* A pending wildcard receive of the application must not catch the library's messages. */
  {
    int token = -1;
    MPI_Request req;
    MPI_Irecv(&token, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &req);
    allreduce_case(MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, 5000, 0);
    MPI_Send(&g_rank, 1, MPI_INT, (g_rank + 1) % p, 77, MPI_COMM_WORLD);
    MPI_Wait(&req, MPI_STATUS_IGNORE);
    check(token == (g_rank + p - 1) % p, "wildcard receive got the application's message");
  }

  /* Not handled: unsigned type, bitwise op, user-defined op, pair type, count 0. */
  {
    unsigned u = (unsigned)g_rank + 1, su = 0;
    MPI_Allreduce(&u, &su, 1, MPI_UNSIGNED, MPI_SUM, MPI_COMM_WORLD);
    check(su == (unsigned)(p * (p + 1) / 2), "unsigned sum");
    int bits = 1 << (g_rank % 30), all = 0;
    MPI_Allreduce(&bits, &all, 1, MPI_INT, MPI_BOR, MPI_COMM_WORLD);
    int want = 0;
    for (int r = 0; r < p; ++r) want |= 1 << (r % 30);
    check(all == want, "MPI_BOR");
    MPI_Op user;
    MPI_Op_create(bitwise_or, 1, &user);
    all = 0;
    MPI_Allreduce(&bits, &all, 1, MPI_INT, user, MPI_COMM_WORLD);
    check(all == want, "user-defined op");
    MPI_Op_free(&user);
    struct {
      float v;
      int i;
    } mine = {(float)(g_rank % 3), g_rank}, best = {0, 0};
    MPI_Allreduce(&mine, &best, 1, MPI_FLOAT_INT, MPI_MAXLOC, MPI_COMM_WORLD);
    check(best.v == (float)(p >= 3 ? 2 : p - 1) && best.i == (p >= 3 ? 2 : p - 1), "MPI_MAXLOC");
    float none = 0;
    MPI_Allreduce(&none, &none, 0, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    check(1, "count 0");
  }

  /* Not handled: a one-rank communicator and an intercommunicator. */
  {
    double d = 3.5, out = 0;
    MPI_Allreduce(&d, &out, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_SELF);
    check(out == 3.5, "MPI_COMM_SELF");
    if (p >= 2) {
      MPI_Comm half, inter;
      const int color = g_rank % 2;
      MPI_Comm_split(MPI_COMM_WORLD, color, g_rank, &half);
      MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, color == 0 ? 1 : 0, 99, &inter);
      int v = g_rank, sum = 0;
      MPI_Allreduce(&v, &sum, 1, MPI_INT, MPI_SUM, inter); /* the other group's sum */
      int want = 0;
      for (int r = 0; r < p; ++r) want += (r % 2 != color) ? r : 0;
      check(sum == want, "intercommunicator");
      MPI_Comm_free(&inter);
      /* Handled: allreduce on each half (P >= 4 gives halves of 2+ ranks). */
      if (p >= 4) allreduce_case(half, MPI_INT64_T, MPI_SUM, 777, 0);
      MPI_Comm_free(&half);
    }
  }

  /* Reduce-scatter-block and allgather. */
  {
    const int rc = 1001;
    int* in = malloc(sizeof(int) * (size_t)rc * (size_t)p);
    int* out = malloc(sizeof(int) * (size_t)rc);
    for (long long i = 0; i < (long long)rc * p; ++i) in[i] = (int)value(g_rank, i, 0);
    MPI_Reduce_scatter_block(in, out, rc, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int ok = 1;
    for (int i = 0; i < rc; ++i) ok = ok && out[i] == expected(p, (long long)g_rank * rc + i, MPI_SUM);
    check(ok, "reduce_scatter_block");
    float* fin = malloc(sizeof(float) * (size_t)rc * (size_t)p);
    float* fout = malloc(sizeof(float) * (size_t)rc);
    for (long long i = 0; i < (long long)rc * p; ++i) fin[i] = (float)value(g_rank, i, 0);
    MPI_Reduce_scatter_block(fin, fout, rc, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
    ok = 1;
    for (int i = 0; i < rc; ++i) ok = ok && (long long)fout[i] == expected(p, (long long)g_rank * rc + i, MPI_MAX);
    check(ok, "reduce_scatter_block max");
    MPI_Reduce_scatter_block(MPI_IN_PLACE, in, rc, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    ok = 1;
    for (int i = 0; i < rc; ++i) ok = ok && in[i] == expected(p, (long long)g_rank * rc + i, MPI_SUM);
    check(ok, "reduce_scatter_block in place");

    double* mine = malloc(sizeof(double) * (size_t)rc);
    double* all = malloc(sizeof(double) * (size_t)rc * (size_t)p);
    for (int i = 0; i < rc; ++i) mine[i] = g_rank * 10000.0 + i;
    MPI_Allgather(mine, rc, MPI_DOUBLE, all, rc, MPI_DOUBLE, MPI_COMM_WORLD);
    ok = 1;
    for (int r = 0; r < p; ++r)
      for (int i = 0; i < rc; ++i) ok = ok && all[(size_t)r * rc + i] == r * 10000.0 + i;
    check(ok, "allgather");
    for (size_t i = 0; i < (size_t)rc * (size_t)p; ++i) all[i] = -1;
    memcpy(all + (size_t)g_rank * rc, mine, sizeof(double) * (size_t)rc);
    MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, rc, MPI_DOUBLE, MPI_COMM_WORLD);
    ok = 1;
    for (int r = 0; r < p; ++r)
      for (int i = 0; i < rc; ++i) ok = ok && all[(size_t)r * rc + i] == r * 10000.0 + i;
    check(ok, "allgather in place");
    /* One contiguous block of rc doubles sent, rc doubles received: the same type signature
     * through different datatypes, legal MPI, not ours to handle. */
    MPI_Datatype block;
    MPI_Type_contiguous(rc, MPI_DOUBLE, &block);
    MPI_Type_commit(&block);
    MPI_Allgather(mine, 1, block, all, rc, MPI_DOUBLE, MPI_COMM_WORLD);
    MPI_Type_free(&block);
    ok = 1;
    for (int r = 0; r < p; ++r)
      for (int i = 0; i < rc; ++i) ok = ok && all[(size_t)r * rc + i] == r * 10000.0 + i;
    check(ok, "allgather mixed types");
    free(in);
    free(out);
    free(fin);
    free(fout);
    free(mine);
    free(all);
  }

  int failures = 0;
  MPI_Allreduce(&g_failures, &failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0) printf("allreduce_app: %d ranks, %d checks per rank, %d failures\n", p, g_checks, failures);
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
