// Cost of a list page against the size of the list: a snapshot of N processes (N = 1,000 to
// 100,000), the first request (which sorts the list once per snapshot) and then pages at the
// start, middle and end, unfiltered and filtered, through the router as serve answers them.
//
//   list_bench [N...]      prints one line per N, and "RESULT key value" lines for bench/run.sh
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "agent/router.hpp"

using namespace hostprint;

namespace {

double median_us(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <class F>
double time_us(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {1000, 10000, 100000};
  const RouterSettings settings{std::nullopt, "0", "h1"};
  std::printf("%10s %14s %14s %14s %14s\n", "processes", "first (sort)", "page 0 us",
              "page end us", "filtered us");
  for (int n : sizes) {
    auto processes = std::make_shared<std::vector<proto::ProcessInfo>>();
    processes->reserve(static_cast<std::size_t>(n));
    for (int pid = 1; pid <= n; ++pid)
      processes->push_back({pid, static_cast<std::uint64_t>(pid),
                            "/usr/lib/app" + std::to_string(pid % 97) + "/bin/worker", ""});
    proto::AssetSet set;
    set.add<proto::ProcessInfo>(processes);
    auto snapshot = build_snapshot(std::move(set), {}, 1, 1.0);
    const std::string base = "/v5/p/asset/processes/detail?limit=200";
    const double first = time_us([&] { route("GET", base, *snapshot, settings); });
    std::vector<double> start, end, filtered;
    const std::string last = base + "&offset=" + std::to_string(std::max(0, n - 200));
    for (int i = 0; i < 101; ++i) {
      start.push_back(time_us([&] { route("GET", base, *snapshot, settings); }));
      end.push_back(time_us([&] { route("GET", last, *snapshot, settings); }));
      filtered.push_back(time_us(
          [&] { route("GET", base + "&path=/usr/lib/app5/bin/worker", *snapshot, settings); }));
    }
    std::printf("%10d %14.0f %14.1f %14.1f %14.1f\n", n, first, median_us(start), median_us(end),
                median_us(filtered));
    std::printf("RESULT list_first_us.%d %.1f\nRESULT list_page_us.%d %.1f\n"
                "RESULT list_last_page_us.%d %.1f\nRESULT list_filtered_us.%d %.1f\n",
                n, first, n, median_us(start), n, median_us(end), n, median_us(filtered));
  }
}
