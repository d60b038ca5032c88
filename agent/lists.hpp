#pragma once
// The list endpoints' answers (lists.md), derived from a snapshot's asset tables: one engine for
// every kind, driven by the declarations in proto/lists.
#include <memory>
#include <string>

#include "proto/lists.hpp"

namespace hostprint {

struct Snapshot;

// Who is answering: the host fields every item carries.
struct HostFacts {
  std::string_view host_id;
  std::string_view enterprise_project_id;
};

// Each list's items sorted once per snapshot, on first use, so a page costs what the page holds.
struct ListCache;
std::shared_ptr<ListCache> make_list_cache();

// The answer body, {"total_num": N, "data_list": [...]}.
std::string list_json(const proto::ListQuery& query, const Snapshot& snapshot,
                      const HostFacts& host);

}  // namespace hostprint
