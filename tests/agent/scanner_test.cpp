#include "agent/scanner.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include "agent/collector_registry.hpp"

namespace hostprint {
namespace {

using collectors::Collector;
using collectors::KindSet;
using collectors::kinds;
using collectors::Outcome;
using collectors::ScanContext;

// A collector whose behaviour each test sets: what it reads and writes, and what a run does.
class Probe final : public Collector {
 public:
  Probe(std::string name, KindSet reads, KindSet writes, std::function<Outcome()> run = {})
      : name_(std::move(name)), reads_(reads), writes_(writes), run_(std::move(run)) {}
  std::string_view name() const override { return name_; }
  KindSet reads() const override { return reads_; }
  KindSet writes() const override { return writes_; }
  Outcome collect(const ScanContext& context) override {
    ++runs;
    if (reads_.test(proto::kind_id<proto::ProcessInfo>))
      seen = context.input_part<proto::ProcessInfo>().size();
    return run_ ? run_() : Outcome{};
  }
  void publish(proto::AssetSet& found) const override {
    if (writes_.test(proto::kind_id<proto::ProcessInfo>)) found.add(processes);
  }
  std::size_t item_count() const override { return 0; }

  int runs = 0;
  std::size_t seen = 0;
  std::shared_ptr<const std::vector<proto::ProcessInfo>> processes =
      std::make_shared<const std::vector<proto::ProcessInfo>>(
          std::vector<proto::ProcessInfo>{{1, 1, "/bin/a", ""}, {2, 1, "/bin/b", "c"}});

 private:
  std::string name_;
  KindSet reads_, writes_;
  std::function<Outcome()> run_;
};

Outcome failed() {
  Outcome o;
  o.fail("source unreadable");
  return o;
}

const CollectorStatus& status(const Snapshot& s, std::string_view name) {
  for (const auto& c : s.collectors)
    if (c.name == name) return c;
  throw std::runtime_error("no collector " + std::string(name));
}

TEST(Scanner, OrdersCollectorsByWhatTheyReadAndWrite) {
  std::vector<std::unique_ptr<Collector>> all;
  auto reader = std::make_unique<Probe>("reader", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>());
  auto writer = std::make_unique<Probe>("writer", KindSet{}, kinds<proto::ProcessInfo>());
  Probe* r = reader.get();
  all.push_back(std::move(reader));  // registered first, yet runs second
  all.push_back(std::move(writer));
  Scanner scanner({}, std::move(all));
  auto snapshot = scanner.scan_once();
  EXPECT_EQ(snapshot->collectors.at(0).name, "writer");
  EXPECT_EQ(snapshot->collectors.at(1).name, "reader");
  EXPECT_EQ(r->seen, 2u);  // this scan's table
  EXPECT_EQ(snapshot->host.counts.process_num, 1);
  EXPECT_EQ(snapshot->container.counts.process_num, 1);
}

TEST(Scanner, EachProcessIsReadOncePerScanAndShared) {
  // Two collectors ask for this process's command line; the second gets what the first read.
  std::vector<const collectors::ProcessCommand*> seen;
  auto ask = [&seen](const ScanContext& context) {
    seen.push_back(&context.processes().command(static_cast<int>(::getpid())));
  };
  class Asker final : public Collector {
   public:
    Asker(std::string name, std::function<void(const ScanContext&)> f)
        : name_(std::move(name)), f_(std::move(f)) {}
    std::string_view name() const override { return name_; }
    KindSet writes() const override { return {}; }
    Outcome collect(const ScanContext& c) override {
      f_(c);
      return {};
    }
    void publish(proto::AssetSet&) const override {}
    std::size_t item_count() const override { return 0; }

   private:
    std::string name_;
    std::function<void(const ScanContext&)> f_;
  };
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Asker>("first", ask));
  all.push_back(std::make_unique<Asker>("second", ask));
  Scanner scanner({}, std::move(all));
  scanner.scan_once();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_TRUE(seen[0]->readable);
  EXPECT_FALSE(seen[0]->argv.empty());
}

TEST(ProcessReader, ReadsAProcessOnceAndAReusedPidAsGone) {
  const int self = static_cast<int>(::getpid());
  std::vector<proto::ProcessInfo> table{{self, 1, "/x", ""}};  // a start time that is not ours
  collectors::ProcessReader reused("/proc", table);
  EXPECT_FALSE(reused.command(self).readable);
  collectors::ProcessReader any("/proc", {});
  const auto& first = any.command(self);
  EXPECT_TRUE(first.readable);
  EXPECT_EQ(first.parent, std::optional<int>(static_cast<int>(::getppid())));
  EXPECT_EQ(&any.command(self), &first);
}

TEST(Scanner, ACycleIsRefusedAtConstruction) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("a", kinds<proto::WebApp>(), kinds<proto::ProcessInfo>()));
  all.push_back(std::make_unique<Probe>("b", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>()));
  EXPECT_THROW(Scanner({}, std::move(all)), std::logic_error);
}

TEST(Scanner, TheRegistryHasAnOrderAndEveryReadHasAWriter) {
  collectors::CollectorConfig config;
  config.rules = std::make_shared<const collectors::Fingerprints>();
  std::vector<std::unique_ptr<Collector>> all;
  KindSet written;
  for (const auto& entry : collector_registry()) {
    all.push_back(entry.make(config));
    EXPECT_EQ(all.back()->name(), entry.name);
    written |= all.back()->writes();
  }
  const auto order = run_order(all);
  EXPECT_EQ(order.size(), all.size());
  for (const auto& c : all) EXPECT_EQ((c->reads() & ~written).none(), true) << c->name();
}

TEST(Scanner, AMissingInputMeansTheSameForEveryReader) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("table", KindSet{}, kinds<proto::ProcessInfo>(), failed));
  auto one = std::make_unique<Probe>("one", kinds<proto::ProcessInfo>(), kinds<proto::WebApp>());
  auto two = std::make_unique<Probe>("two", kinds<proto::ProcessInfo>(), kinds<proto::JarPackage>());
  Probe *p1 = one.get(), *p2 = two.get();
  all.push_back(std::move(one));
  all.push_back(std::move(two));
  Scanner scanner({}, std::move(all));
  auto snapshot = scanner.scan_once();
  for (std::string_view name : {"one", "two"}) {
    const auto& s = status(*snapshot, name);
    EXPECT_FALSE(s.complete);
    ASSERT_EQ(s.errors.size(), 1u);
    EXPECT_EQ(s.errors[0], "no result yet from table to read");
  }
  EXPECT_EQ(p1->runs, 0);  // never run on a result that does not exist
  EXPECT_EQ(p2->runs, 0);
}

TEST(Scanner, AnyThrowIsContainedAndNamedOnce) {
  std::vector<std::unique_ptr<Collector>> all;
  all.push_back(std::make_unique<Probe>("ints", KindSet{}, kinds<proto::WebApp>(),
                                        []() -> Outcome { throw 42; }));
  all.push_back(std::make_unique<Probe>("std", KindSet{}, kinds<proto::JarPackage>(),
                                        []() -> Outcome { throw std::length_error("too long"); }));
  auto after = std::make_unique<Probe>("after", KindSet{}, kinds<proto::KernelModule>());
  Probe* a = after.get();
  all.push_back(std::move(after));
  Scanner scanner({}, std::move(all));
  auto snapshot = scanner.scan_once();
  EXPECT_EQ(status(*snapshot, "ints").errors, std::vector<std::string>{"internal failure"});
  EXPECT_EQ(status(*snapshot, "std").errors,
            std::vector<std::string>{"internal failure: too long"});
  EXPECT_EQ(a->runs, 1);  // the scan went on
}

}  // namespace
}  // namespace hostprint
