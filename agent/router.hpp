#pragma once
// Request target -> validated query -> answer from a Snapshot. Shared by `serve` and `query`.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "agent/snapshot.hpp"
#include "proto/query.hpp"

namespace hostprint {

struct RouterSettings {
  std::optional<std::string> project_id;  // unset: any valid id is accepted
  std::string enterprise_project_id = "0";
  std::string host_id;
};

struct Answer {
  int status = 200;
  std::string body;           // JSON
  bool allow_header = false;  // 405: send Allow: GET, HEAD
  std::string_view content_type = "application/json;charset=UTF-8";  // a literal's lifetime
};

Answer error_answer(const proto::ApiError& error);

// Path, method, project and parameters checked, nothing answered yet: the validated query, or the
// error answer to send. Shared by the agent's router and `fleet`, so both refuse alike.
std::variant<proto::Query, Answer> validate_request(std::string_view method,
                                                    std::string_view target,
                                                    const std::optional<std::string>& project_id);

// `method` is the HTTP method; authentication is the caller's business and comes first.
// `accept` (the Accept header) chooses the format of /metrics.
Answer route(std::string_view method, std::string_view target, const Snapshot& snapshot,
             const RouterSettings& settings, std::string_view accept = {});

// Before the first scan ends: the same refusals, then /status says the scan is running (since
// `since`) and every answer that needs a scan is 503 HSS.0002.
Answer route_before_first_scan(std::string_view method, std::string_view target,
                               const RouterSettings& settings,
                               std::chrono::system_clock::time_point since);

}  // namespace hostprint
