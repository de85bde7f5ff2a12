// Hold-model comparators for fleetsim's event queue (src/engine/event-queue.ts).
//
// Two hand-written queues with the semantics of the TypeScript ones, ordered by (time, seq), seq a
// global counter taken on every schedule:
//  - an indexed 4-ary heap with the memory layout of bench/queue-variants.ts's QuaternaryEventQueue
//    (keys in heap order, a position index per entity): the comparator the issue names;
//  - the tournament tree with lazy pop of EventQueue, the same algorithm as the TypeScript queue,
//    so the gap between the two languages on one algorithm is measured too.
// Same workload as bench/hold.ts: N events at Exp(1) times; each operation pops the minimum and
// reschedules it at time + Exp(1), with Exp(1) samples precomputed from mulberry32 (same seed)
// into a ring.
//
// Build and run:  g++ -O2 -o /tmp/hold bench/cpp/hold.cpp && /tmp/hold [timeMs]
// Prints one JSON object per line: {"name":"hold/cpp-4ary/N=...","ops_per_s":...}, then cpp-tree.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

class QuaternaryEventQueue {
 public:
  explicit QuaternaryEventQueue(int capacity)
      : ht_(capacity), hs_(capacity), he_(capacity), pos_(capacity, -1) {}

  int size() const { return n_; }
  double peek_time() const { return n_ > 0 ? ht_[0] : INFINITY; }

  void schedule(int entity, double t) {
    double s = seq_++;
    int i = pos_[entity];
    if (i < 0) {
      up(n_++, t, s, entity);
    } else if (t < ht_[i]) {
      up(i, t, s, entity);
    } else {
      down(i, t, s, entity);
    }
  }

  int pop() {
    if (n_ == 0) return -1;
    int e = he_[0];
    pos_[e] = -1;
    fill(0);
    return e;
  }

 private:
  void fill(int i) {
    int last = --n_;
    if (i == last) return;
    double t = ht_[last], s = hs_[last];
    int e = he_[last];
    if (i > 0) {
      int p = (i - 1) >> 2;
      if (t < ht_[p] || (t == ht_[p] && s < hs_[p])) {
        up(i, t, s, e);
        return;
      }
    }
    down(i, t, s, e);
  }

  void up(int i, double t, double s, int e) {
    double* ht = ht_.data();
    double* hs = hs_.data();
    int* he = he_.data();
    int* pos = pos_.data();
    while (i > 0) {
      int p = (i - 1) >> 2;
      double pt = ht[p];
      if (t > pt || (t == pt && s > hs[p])) break;
      ht[i] = pt;
      hs[i] = hs[p];
      int pe = he[p];
      he[i] = pe;
      pos[pe] = i;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }

  void down(int i, double t, double s, int e) {
    double* ht = ht_.data();
    double* hs = hs_.data();
    int* he = he_.data();
    int* pos = pos_.data();
    const int n = n_;
    for (;;) {
      int c = (i << 2) + 1;
      if (c >= n) break;
      int m = c;
      double mt = ht[c], ms = hs[c];
      int end = c + 4 < n ? c + 4 : n;
      for (int k = c + 1; k < end; k++) {
        double kt = ht[k];
        if (kt < mt || (kt == mt && hs[k] < ms)) {
          m = k;
          mt = kt;
          ms = hs[k];
        }
      }
      if (t < mt || (t == mt && s < ms)) break;
      ht[i] = mt;
      hs[i] = ms;
      int me = he[m];
      he[i] = me;
      pos[me] = i;
      i = m;
    }
    ht[i] = t;
    hs[i] = s;
    he[i] = e;
    pos[e] = i;
  }

  std::vector<double> ht_, hs_;
  std::vector<int> he_, pos_;
  int n_ = 0;
  double seq_ = 0;
};

class TournamentEventQueue {
 public:
  explicit TournamentEventQueue(int capacity) {
    while (leaves_ < capacity) leaves_ *= 2;
    time_.assign(leaves_, INFINITY);
    seq_of_.assign(leaves_, INFINITY);
    pending_.assign(leaves_, 0);
    winner_.assign(2 * leaves_, 0);
    for (int e = 0; e < leaves_; e++) winner_[leaves_ + e] = e;
    for (int i = leaves_ - 1; i >= 1; i--) winner_[i] = winner_[2 * i];
  }

  double peek_time() {
    if (popped_ >= 0) clear_popped();
    return n_ > 0 ? time_[winner_[1]] : INFINITY;
  }

  void schedule(int entity, double t) {
    if (popped_ >= 0) {
      int p = popped_;
      popped_ = -1;
      if (p != entity) clear(p);
    }
    if (!pending_[entity]) {
      pending_[entity] = 1;
      n_++;
    }
    time_[entity] = t;
    seq_of_[entity] = seq_++;
    replay(entity);
  }

  int pop() {
    if (popped_ >= 0) clear_popped();
    if (n_ == 0) return -1;
    int e = winner_[1];
    pending_[e] = 0;
    n_--;
    popped_ = e;
    return e;
  }

 private:
  void clear_popped() {
    int e = popped_;
    popped_ = -1;
    clear(e);
  }

  void clear(int e) {
    time_[e] = INFINITY;
    seq_of_[e] = INFINITY;
    replay(e);
  }

  void replay(int entity) {
    const double* time = time_.data();
    const double* seq_of = seq_of_.data();
    int* winner = winner_.data();
    int best = entity;
    for (int i = entity + leaves_; i > 1; i >>= 1) {
      int other = winner[i ^ 1];
      double t = time[other], best_t = time[best];
      // As in the TypeScript: the match's winner by integer masks, not a (mispredicted) branch;
      // seq is read only on the rare (so predicted) equal times.
      int other_wins = int(t < best_t);
      if (t == best_t) other_wins = int(seq_of[other] < seq_of[best]);
      best ^= (best ^ other) & -other_wins;
      winner[i >> 1] = best;
    }
  }

  int leaves_ = 1;
  std::vector<double> time_, seq_of_;
  std::vector<uint8_t> pending_;
  std::vector<int> winner_;
  int n_ = 0;
  int popped_ = -1;
  double seq_ = 0;
};

constexpr int kExpRing = 1 << 16;
constexpr int kExpMask = kExpRing - 1;
constexpr int kOpsPerBatch = 1024;

// mulberry32, matching expRing() in bench/hold.ts.
std::vector<double> exp_ring(uint32_t seed) {
  std::vector<double> out(kExpRing);
  uint32_t a = seed;
  for (int i = 0; i < kExpRing; i++) {
    a += 0x6d2b79f5u;
    uint32_t t = a;
    t = (t ^ (t >> 15)) * (t | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    double u = static_cast<double>(t ^ (t >> 14)) / 4294967296.0;
    out[i] = -std::log1p(-u);
  }
  return out;
}

using Clock = std::chrono::steady_clock;

// Median batch rate, like bench/hold.ts (tinybench latency p50), after a warmup of time_ms / 4.
template <typename Queue>
double hold(int n, double time_ms, const std::vector<double>& exp, double* checksum) {
  Queue q(n);
  int r = 0;
  for (int e = 0; e < n; e++) {
    q.schedule(e, exp[r]);
    r = (r + 1) & kExpMask;
  }
  auto run_batch = [&]() {
    for (int k = 0; k < kOpsPerBatch; k++) {
      double t = q.peek_time();
      q.schedule(q.pop(), t + exp[r]);
      r = (r + 1) & kExpMask;
    }
  };
  auto start = Clock::now();
  while (std::chrono::duration<double, std::milli>(Clock::now() - start).count() < time_ms / 4) run_batch();
  std::vector<double> batch_ms;
  start = Clock::now();
  auto prev = start;
  for (;;) {
    run_batch();
    auto now = Clock::now();
    batch_ms.push_back(std::chrono::duration<double, std::milli>(now - prev).count());
    prev = now;
    if (std::chrono::duration<double, std::milli>(now - start).count() >= time_ms) break;
  }
  *checksum += q.peek_time();
  std::sort(batch_ms.begin(), batch_ms.end());
  size_t m = batch_ms.size();
  double median = m % 2 ? batch_ms[m / 2] : (batch_ms[m / 2 - 1] + batch_ms[m / 2]) / 2;
  return kOpsPerBatch * 1000.0 / median;
}

}  // namespace

int main(int argc, char** argv) {
  double time_ms = argc > 1 ? std::atof(argv[1]) : 1000;
  if (!(time_ms > 0)) {
    std::fprintf(stderr, "usage: %s [timeMs]\n", argv[0]);
    return 2;
  }
  std::vector<double> exp = exp_ring(0x5eed1234u);
  double checksum = 0;
  for (int n : {64, 4096, 262144}) {
    double ops = hold<QuaternaryEventQueue>(n, time_ms, exp, &checksum);
    std::printf("{\"name\":\"hold/cpp-4ary/N=%d\",\"ops_per_s\":%.0f}\n", n, ops);
  }
  for (int n : {64, 4096, 262144}) {
    double ops = hold<TournamentEventQueue>(n, time_ms, exp, &checksum);
    std::printf("{\"name\":\"hold/cpp-tree/N=%d\",\"ops_per_s\":%.0f}\n", n, ops);
  }
  // Keeps the final queue state observable so the compiler cannot drop the work.
  std::fprintf(stderr, "checksum %.6f\n", checksum);
  return 0;
}
