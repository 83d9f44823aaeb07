// Pairing (one-time codes, POST /v1/devices/pair) and revocation (DELETE /v1/devices/{id}).
#include "api/router.hpp"

namespace tillgate::api {

namespace asio = boost::asio;
using net::HttpRequest;
using net::HttpResponse;

asio::awaitable<HttpResponse> Router::create_pairing_code(std::string merchant_id,
                                                          HttpRequest request) {
  co_return error(ErrorCode::route_not_found,
                  "pairing is not built yet: " + merchant_id + " " + request.path);
}

asio::awaitable<HttpResponse> Router::pair_device(HttpRequest request) {
  co_return error(ErrorCode::route_not_found, "pairing is not built yet: " + request.path);
}

asio::awaitable<HttpResponse> Router::delete_device(std::string merchant_id, std::string device_id) {
  co_return error(ErrorCode::route_not_found,
                  "revocation is not built yet: " + merchant_id + " " + device_id);
}

}  // namespace tillgate::api
