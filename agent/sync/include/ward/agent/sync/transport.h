// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ward/common/result.h"

namespace ward::agent::sync {

// One HTTP answer from the collector. Value type.
struct CollectorReply {
  int status = 0;
  std::string body;
  // From a 429 or 503 `Retry-After: <seconds>` header.
  std::optional<std::chrono::seconds> retry_after;
};

// The network half of sync: POSTs a protobuf body to the collector and returns its answer.
// Everything that touches bytes from the network is behind this interface (and SyncEngine's
// parsing of the answers), so it can move into an unprivileged process later.
//
// Thread-safe: Post() may be called from several threads at once (each call uses its own
// connection); Cancel() may be called from any thread.
class CollectorTransport {
 public:
  virtual ~CollectorTransport() = default;
  // POSTs `body` (application/x-protobuf) to `path` ("/v1/events"), with
  // `Authorization: Bearer <bearer>` unless `bearer` is empty, waiting at most `timeout` for the
  // answer. Any HTTP status is a successful call. Errors: kUnauthenticated when the server's
  // certificate is not signed by the pinned CA or does not name the host (nothing is sent);
  // kUnavailable for network and TLS failures, and after Cancel().
  virtual Result<CollectorReply> Post(std::string_view path, std::string_view body,
                                      std::string_view bearer, std::chrono::seconds timeout) = 0;
  // Aborts every Post() in progress and makes later ones fail at once with kUnavailable.
  virtual void Cancel() = 0;
};

struct HttpsTransportOptions {
  // "https://collector.example.ac.uk:8443" (an optional path prefix is kept).
  std::string url;
  // The site CA (PEM). Only this CA is trusted: the system's CAs are not.
  std::filesystem::path ca_file;
  std::chrono::seconds connect_timeout{10};
  // Larger answers are refused (a policy bundle is at most 32 MiB).
  std::size_t max_reply_bytes = std::size_t{40} << 20;
};

// HTTPS (TLS 1.2 minimum) with the CA pinned and the host name or IP address verified by
// OpenSSL during the handshake. kInvalidArgument for a malformed or non-https URL or an
// unreadable CA file.
Result<std::unique_ptr<CollectorTransport>> CreateHttpsTransport(
    const HttpsTransportOptions& options);

}  // namespace ward::agent::sync
