// image_processing — concurrent image processing. Seed 001, "Real-World
// Example: Concurrent Image Processing":
//
//   // Simulates image processing (resize, compress, apply filters)
//   func processImage(imageID int, wg *sync.WaitGroup) {
//       defer wg.Done()
//       fmt.Printf("🔄 Processing image %d...\n", imageID)
//       // Simulate CPU-intensive work
//       time.Sleep(time.Duration(100+imageID*50) * time.Millisecond)
//       fmt.Printf("✅ Image %d processed successfully\n", imageID)
//   }
//
//   func main() {
//       images := []int{1, 2, 3, 4, 5, 6, 7, 8}
//       var wg sync.WaitGroup
//       fmt.Println("🚀 Starting concurrent image processing pipeline...")
//       wg.Add(len(images))
//       for _, imgID := range images {
//           go processImage(imgID, &wg)
//       }
//       wg.Wait()
//       fmt.Println("\n🎉 All images processed! Ready for deployment.")
//   }
//
// The work takes a tenth of the seed's time: (10 + 5*id) ms.
#include <goro/goro.hpp>

#include <array>
#include <chrono>
#include <cstdio>

#include "demo.hpp"

using namespace std::chrono_literals;

namespace {

std::array<int, 9> processed;  // processed[id]: times image id was processed (self-check)

// Simulates image processing (resize, compress, apply filters)
void processImage(int imageID, goro::wait_group* wg) {
  demo::defer done([wg] { wg->done(); });
  std::printf("🔄 Processing image %d...\n", imageID);
  // Simulate CPU-intensive work
  goro::sleep(std::chrono::milliseconds(10 + imageID * 5));  // seed: 100 + imageID*50
  std::printf("✅ Image %d processed successfully\n", imageID);
  processed[imageID]++;
}

}  // namespace

bool demo::image_processing_main() {
  processed = {};
  const auto start = std::chrono::steady_clock::now();

  std::array images = {1, 2, 3, 4, 5, 6, 7, 8};
  goro::wait_group wg;
  std::printf("🚀 Starting concurrent image processing pipeline...\n");
  wg.add(images.size());
  for (int imgID : images) {
    goro::go(processImage, imgID, &wg);
  }
  wg.wait();
  std::printf("\n🎉 All images processed! Ready for deployment.\n");

  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  bool ok = check(processed == std::array{0, 1, 1, 1, 1, 1, 1, 1, 1}, "each of the 8 images was processed once");
  ok &= check(elapsed < 260ms, "concurrently: %lld ms in all, where one after another takes 260 ms",
              static_cast<long long>(elapsed.count()));
  return ok;
}
