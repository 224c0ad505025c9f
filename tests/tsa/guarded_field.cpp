// Compiled (never run) by the tsa_* tests with clang++ -Wthread-safety
// -Werror=thread-safety: goro::mutex and goro::rw_mutex are capabilities, so
// a user's GORO_GUARDED_BY field touched without its lock does not compile.
// GORO_TSA_CASE selects the body: 0 every access is under its lock (must
// compile), 1 a write without the mutex, 2 a write under a shared (reader)
// lock, 3 a call of a GORO_REQUIRES function without the lock.
#include <goro/sync.hpp>
#include <goro/thread_annotations.hpp>

struct account {
  goro::mutex mu;
  long balance GORO_GUARDED_BY(mu) = 0;
  goro::rw_mutex rw;
  long rate GORO_GUARDED_BY(rw) = 0;

  void audit() GORO_REQUIRES(mu) { ++balance; }

  long run() {
    long r = 0;
#if GORO_TSA_CASE == 0
    mu.lock();
    balance += 1;
    audit();
    mu.unlock();
    if (mu.try_lock()) {
      balance -= 1;
      mu.unlock();
    }
    rw.lock_shared();
    r = rate;
    rw.unlock_shared();
    rw.lock();
    rate = r + 1;
    rw.unlock();
#elif GORO_TSA_CASE == 1
    balance += 1;  // error: writing variable 'balance' requires holding mutex 'mu' exclusively
#elif GORO_TSA_CASE == 2
    rw.lock_shared();
    rate = 2;  // error: writing variable 'rate' requires holding mutex 'rw' exclusively
    rw.unlock_shared();
#elif GORO_TSA_CASE == 3
    audit();  // error: calling function 'audit' requires holding mutex 'mu' exclusively
#endif
    return r;
  }
};

long use() {
  account a;
  return a.run();
}
