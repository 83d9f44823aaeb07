#include "sim/source_address.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

namespace tillgate::sim {

void bind_source_address(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp& protocol,
                         const std::string& address) {
  const auto local = boost::asio::ip::make_address(address);
  if (socket.is_open()) {
    socket.close();
  }
  socket.open(protocol);
#ifdef IP_BIND_ADDRESS_NO_PORT
  const int on = 1;
  // Best effort: without it, bind() picks the port and each source address is limited to
  // its ephemeral range whatever the destination.
  (void)::setsockopt(socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
#endif
  socket.bind(boost::asio::ip::tcp::endpoint(local, 0));
}

}  // namespace tillgate::sim
