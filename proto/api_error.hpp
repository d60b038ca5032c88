#pragma once
// An API failure as the client sees it: HTTP status plus the cloud API's error body.
#include <string>

namespace hostprint::proto {

struct ApiError {
  int status = 500;
  std::string code;         // HSS.xxxx
  std::string message;      // error_msg
  std::string description;  // error_description
};

ApiError invalid_parameter(std::string_view name, std::string_view description);
ApiError project_mismatch(std::string_view project_id);
ApiError unauthorized();
ApiError not_found();
ApiError method_not_allowed();
ApiError request_too_large(int status, std::string_view what);
ApiError internal_error(std::string_view request_id);
ApiError shutting_down();

}  // namespace hostprint::proto
