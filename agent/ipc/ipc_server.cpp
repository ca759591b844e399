// SPDX-License-Identifier: Apache-2.0
// The portable half of IpcServer; the OS half is a ServerTransport (ipc_server_<os>.cpp).
#include "ward/agent/ipc/ipc_server.h"

#include <optional>
#include <string>
#include <utility>

#include "internal/server_engine.h"
#include "internal/server_transport.h"

namespace ward::agent::ipc {

class IpcServer::Impl {
 public:
  Impl(IpcServerOptions options, AgentControl& control, Clock& clock)
      : engine_(std::move(options), control, clock,
                [this](internal::Session& s) { return transport_->WriteNow(s); }),
        transport_(internal::CreateServerTransport(engine_)) {}
  ~Impl() { transport_->Stop(); }

  Status Start() { return transport_->Start(); }
  void Stop() { transport_->Stop(); }
  void Notify(v1::Notice notice, std::optional<std::string> only_user) {
    engine_.QueueNotice(std::move(notice), std::move(only_user));
    transport_->Wake();
  }
  std::size_t connection_count() const { return transport_->connection_count(); }

 private:
  internal::ServerEngine engine_;
  std::unique_ptr<internal::ServerTransport> transport_;
};

Result<std::unique_ptr<IpcServer>> IpcServer::Create(IpcServerOptions options,
                                                     AgentControl& control, Clock& clock) {
  if (options.max_frame_bytes < kFrameHeaderBytes || options.max_frame_bytes > kMaxFrameBytes) {
    return InvalidArgumentError("max_frame_bytes must be between 4 and " +
                                std::to_string(kMaxFrameBytes));
  }
  if (options.max_clients == 0 || options.max_clients_per_user == 0) {
    return InvalidArgumentError("max_clients and max_clients_per_user must be at least 1");
  }
  return std::unique_ptr<IpcServer>(
      new IpcServer(std::make_unique<Impl>(std::move(options), control, clock)));
}

IpcServer::IpcServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
IpcServer::~IpcServer() = default;
Status IpcServer::Start() { return impl_->Start(); }
void IpcServer::Stop() { impl_->Stop(); }
void IpcServer::Notify(v1::Notice notice) { impl_->Notify(std::move(notice), std::nullopt); }
void IpcServer::NotifyUser(std::string user_id, v1::Notice notice) {
  impl_->Notify(std::move(notice), std::move(user_id));
}
std::size_t IpcServer::ConnectionCountForTesting() const { return impl_->connection_count(); }

}  // namespace ward::agent::ipc
