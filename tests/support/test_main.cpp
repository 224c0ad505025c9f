// test_main.cpp — main() of every goro test binary: GoogleTest with
// goro/testing.hpp's leak check installed, so a test whose goro::run leaves
// goroutines behind fails with their report (a leak inside goro fails CI).
#include <goro/testing.hpp>
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new goro::testing::leak_check);
  return RUN_ALL_TESTS();
}
