#pragma once
// Connecting from a chosen source address: the simulated terminals and the load generator's
// merchant clients spread their connections over several loopback addresses, because one
// address has only about 28,000 ephemeral ports (net.ipv4.ip_local_port_range).
#include <boost/asio/ip/tcp.hpp>
#include <string>

namespace tillgate::sim {

// Opens `socket` (closed before) for `protocol` and binds it to `address` (an IP literal),
// leaving the port to connect() (IP_BIND_ADDRESS_NO_PORT where the system has it), so
// that the port is unique per destination rather than per source address. Throws
// boost::system::system_error.
void bind_source_address(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp& protocol,
                         const std::string& address);

}  // namespace tillgate::sim
