#include "agent/item_ledger.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "agent/state_store.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint {
namespace {

proto::AssetSet scan_of(std::vector<proto::Account> accounts,
                        std::vector<proto::SoftwarePackage> packages = {},
                        std::vector<proto::ProcessInfo> processes = {}) {
  proto::AssetSet set;
  set.add(std::make_shared<const std::vector<proto::Account>>(std::move(accounts)));
  set.add(std::make_shared<const std::vector<proto::SoftwarePackage>>(std::move(packages)));
  set.add(std::make_shared<const std::vector<proto::ProcessInfo>>(std::move(processes)));
  return set;
}

const ItemTimes& times_of(const ItemLedger& ledger, const proto::Account& account,
                          std::string_view scope = {}) {
  return ledger.times()->at(proto::identity_of(account, scope));
}

const proto::Account root{"root", 0, 0, "/root", "/bin/bash"};
const proto::Account alice{"alice", 1000, 1000, "/home/alice", "/bin/zsh"};

TEST(ItemLedger, NewItemsAreFirstSeenNowChangedOnesKeepTheirFirstTime) {
  ItemLedger ledger(nullptr);
  EXPECT_TRUE(ledger.update(scan_of({root}), 1000).empty());
  EXPECT_EQ(times_of(ledger, root).first_seen_ms, 1000);
  ledger.update(scan_of({root, alice}), 2000);
  EXPECT_EQ(times_of(ledger, root).first_seen_ms, 1000);
  EXPECT_EQ(times_of(ledger, alice).first_seen_ms, 2000);
  auto zsh_root = root;
  zsh_root.shell = "/bin/zsh";
  ledger.update(scan_of({zsh_root, alice}), 3000);
  EXPECT_EQ(times_of(ledger, zsh_root).first_seen_ms, 1000);  // the same account (its key)
  EXPECT_EQ(times_of(ledger, zsh_root).changed_ms, 3000);     // whose shell changed
  EXPECT_EQ(times_of(ledger, alice).changed_ms, 2000);
  ledger.update(scan_of({alice}), 4000);
  EXPECT_EQ(ledger.times()->count(proto::identity_of(root, "")), 0u);  // gone, forgotten
  ledger.update(scan_of({root, alice}), 5000);
  EXPECT_EQ(times_of(ledger, root).first_seen_ms, 5000);  // back: seen anew
}

TEST(ItemLedger, ProcessesAreNotRemembered) {
  ItemLedger ledger(nullptr);
  ledger.update(scan_of({root}, {}, {{1, 5, "/sbin/init", ""}, {2, 6, "/bin/sh", ""}}), 1000);
  EXPECT_EQ(ledger.times()->size(), 1u);
}

TEST(ItemLedger, TimesSurviveARestartWithoutABurst) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  {
    ItemLedger ledger(store);
    EXPECT_TRUE(ledger.update(scan_of({root, alice}, {{"dpkg", "bash", "5.2", "amd64"}}), 1000)
                    .empty());
  }
  ItemLedger restarted(store);
  const proto::SoftwarePackage upgraded{"dpkg", "bash", "5.3", "amd64"};
  EXPECT_TRUE(restarted.update(scan_of({root, alice}, {upgraded}), 9000).empty());
  EXPECT_EQ(times_of(restarted, root).first_seen_ms, 1000);
  EXPECT_EQ(times_of(restarted, alice).changed_ms, 1000);
  const auto& bash = restarted.times()->at(proto::identity_of(upgraded, ""));
  EXPECT_EQ(bash.first_seen_ms, 1000);  // the same package (manager, name, architecture)
  EXPECT_EQ(bash.changed_ms, 9000);     // upgraded after the restart
}

TEST(ItemLedger, ACorruptRecordIsReportedAndRebuilt) {
  test::TempDir dir;
  auto store = std::make_shared<StateStore>(dir.path());
  for (std::string corrupt : {std::string("garbage"), std::string("hostprint item times 1\nx\t1\n"),
                              std::string("hostprint item times 1\nx\t1\t2\tzz\n"),
                              std::string("hostprint item times 1\nx\t1\t2\t3")}) {
    std::ofstream(dir.path() / std::string(ItemLedger::record_name), std::ios::binary) << corrupt;
    ItemLedger ledger(store);
    auto errors = ledger.update(scan_of({root}), 7000);
    ASSERT_EQ(errors.size(), 1u) << corrupt;
    EXPECT_NE(errors[0].find("item-times"), std::string::npos) << errors[0];
    EXPECT_EQ(times_of(ledger, root).first_seen_ms, 7000);
    ItemLedger again(store);  // the rewritten record reads back
    EXPECT_TRUE(again.update(scan_of({root}), 8000).empty());
    EXPECT_EQ(times_of(again, root).first_seen_ms, 7000);
  }
}

TEST(ItemLedger, RecordTextRoundTripsAwkwardIdentities) {
  ItemTimesMap times{{"account\x1f\x1f" "a\tb\nc\\d", {1, 2, 0xabcdef}}, {"x", {3, 4, 5}}};
  std::string error;
  auto back = ItemLedger::parse(ItemLedger::serialize(times), error);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.at("account\x1f\x1f" "a\tb\nc\\d").digest, 0xabcdefu);
  EXPECT_EQ(back.at("x").changed_ms, 4);
}

}  // namespace
}  // namespace hostprint
