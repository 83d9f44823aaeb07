#pragma once
// The "nomba" webhook format (nomba-compat.md section 5), registered by the app beside the
// standard one: Nomba's POS payload fixed with the outbox event, nomba-* signature headers
// made per attempt, Nomba's retry schedule (TILLGATE_NOMBA_WEBHOOK_RETRY_S).
#include "nomba/nomba_format.hpp"
#include "webhooks/format.hpp"

namespace tillgate::nomba {

class NombaWebhookFormat final : public webhooks::WebhookFormat {
 public:
  // `amount_unit`: how transactionAmount counts (TILLGATE_NOMBA_AMOUNT_UNIT).
  NombaWebhookFormat(std::vector<std::chrono::seconds> retry_schedule, NombaAmountUnit amount_unit);

  [[nodiscard]] domain::WebhookFormat kind() const override { return domain::WebhookFormat::nomba; }
  // Nomba's payload for a final status (none for VOIDED: nomba_webhook.hpp), whose
  // requestId is derived from the event id, so one outbox event is one Nomba event, and is
  // the body's key (the re-push and event-log routes find it by that). The terminal's
  // label, and its serial number when its pairing reported one.
  [[nodiscard]] std::optional<webhooks::EventBody> event_body(
      const store::TransactionRecord& after, const store::DeviceRecord* terminal,
      const store::WebhookEventRecord& event) const override;
  [[nodiscard]] webhooks::HeaderList sign(std::string_view secret, std::string_view event_id,
                                          std::string_view body,
                                          domain::Timestamp sent_at) const override;
  [[nodiscard]] std::string ping_body(std::string_view event_id,
                                      domain::Timestamp at) const override;
  [[nodiscard]] const std::vector<std::chrono::seconds>& retry_schedule() const override {
    return retry_schedule_;
  }

 private:
  std::vector<std::chrono::seconds> retry_schedule_;
  NombaAmountUnit amount_unit_;
};

}  // namespace tillgate::nomba
