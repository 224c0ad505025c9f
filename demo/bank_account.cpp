// bank_account — ten withdrawals of $150 from $1000. Seed 001, "Real-World
// Example: Bank Account Race Condition":
//
//   type BankAccount struct {
//       balance int
//       mu      sync.Mutex // Protects balance
//   }
//
//   // Unsafe withdrawal - demonstrates race condition
//   func (acc *BankAccount) WithdrawUnsafe(amount int) {
//       if acc.balance >= amount {
//           // Race condition: another goroutine might withdraw here
//           acc.balance -= amount
//       }
//   }
//
//   // Safe withdrawal - uses mutex for synchronization
//   func (acc *BankAccount) WithdrawSafe(amount int) {
//       acc.mu.Lock()
//       defer acc.mu.Unlock()
//       if acc.balance >= amount {
//           acc.balance -= amount
//           fmt.Printf("✅ Withdrew $%d, new balance: $%d\n", amount, acc.balance)
//       } else {
//           fmt.Printf("❌ Insufficient funds for $%d withdrawal\n", amount)
//       }
//   }
//
//   func main() {
//       account := &BankAccount{balance: 1000}
//       var wg sync.WaitGroup
//       // Simulate 10 concurrent withdrawals
//       for i := 0; i < 10; i++ {
//           wg.Add(1)
//           go func(id int) {
//               defer wg.Done()
//               account.WithdrawSafe(150) // Use safe version
//           }(i)
//       }
//       wg.Wait()
//       fmt.Printf("\n💰 Final balance: $%d\n", account.balance)
//   }
//
// Only WithdrawSafe is written here. WithdrawUnsafe checks and updates the
// balance without the lock, so two goroutines may both pass the check and
// overdraw the account; a ThreadSanitizer build of goro code (`cmake --preset
// tsan`) reports that race as `go run -race` does. WithdrawSafe returns
// whether it withdrew, for the self-check.
#include <goro/goro.hpp>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "demo.hpp"

namespace {

struct BankAccount {
  int balance;
  goro::mutex mu;  // Protects balance

  // Safe withdrawal - uses mutex for synchronization
  bool WithdrawSafe(int amount) {
    std::lock_guard<goro::mutex> lock(mu);  // acc.mu.Lock(); defer acc.mu.Unlock()
    if (balance >= amount) {
      balance -= amount;
      std::printf("✅ Withdrew $%d, new balance: $%d\n", amount, balance);
      return true;
    }
    std::printf("❌ Insufficient funds for $%d withdrawal\n", amount);
    return false;
  }
};

}  // namespace

bool demo::bank_account_main() {
  BankAccount account{1000, {}};
  std::atomic<int> withdrawals{0};  // for the self-check
  goro::wait_group wg;

  // Simulate 10 concurrent withdrawals
  for (int i = 0; i < 10; i++) {
    wg.add(1);
    goro::go(
        [&](int /*id*/) {
          defer done([&] { wg.done(); });
          if (account.WithdrawSafe(150)) withdrawals++;  // Use safe version
        },
        i);
  }
  wg.wait();
  std::printf("\n💰 Final balance: $%d\n", account.balance);

  bool ok = check(account.balance == 100, "final balance is $100");
  ok &= check(withdrawals == 6, "6 withdrawals succeeded and 4 were refused (never overdrawn)");
  return ok;
}
