#include "chaos_model.hpp"

#include <algorithm>
#include <utility>

namespace tillgate::chaos {

namespace {

const std::set<std::string>& final_statuses() {
  static const std::set<std::string> statuses{"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT",
                                              "VOIDED"};
  return statuses;
}

const std::set<std::string>& payment_statuses() {
  static const std::set<std::string> statuses{"SUCCESS", "FAILED", "CANCELLED", "TIMEOUT",
                                              "VOIDED"};
  return statuses;
}

const char* call_name(Call call) {
  switch (call) {
    case Call::pay:
      return "pay";
    case Call::cancel:
      return "cancel";
    case Call::get:
      return "get";
  }
  return "?";
}

// "VOIDED" is the one status a final status may still become, from "TIMEOUT"; "*" is "final,
// status not said" (a cancel refused as TRANSACTION_FINAL).
bool may_become(const std::string& earlier, const std::string& later) {
  return earlier == "*" || later == "*" || earlier == later ||
         (earlier == "TIMEOUT" && later == "VOIDED");
}

// The transaction exists: the answer shows or refers to a stored transaction.
bool proves_existence(const Answer& a) {
  switch (a.call) {
    case Call::pay:
      return a.http_status == 200 || a.http_status == 202 || a.http_status == 504;
    case Call::cancel:
      return a.http_status == 202 || (a.http_status == 409 && a.code == "TRANSACTION_FINAL");
    case Call::get:
      return a.http_status == 200;
  }
  return false;
}

// The final transaction status the answer reports ("*": final, status not said).
std::optional<std::string> final_status_in(const Answer& a) {
  if (a.call == Call::pay && a.http_status == 200) {
    return transaction_status_of_payment_status(a.code);
  }
  if (a.call == Call::get && a.http_status == 200 && is_final_status(a.code)) {
    return a.code;
  }
  if (a.call == Call::cancel && a.http_status == 409 && a.code == "TRANSACTION_FINAL") {
    return std::string("*");
  }
  return std::nullopt;
}

// The answer says the transaction is not final yet.
bool claims_unfinished(const Answer& a) {
  switch (a.call) {
    case Call::pay:
      return a.http_status == 202 || a.http_status == 504;
    case Call::cancel:
      return a.http_status == 202 && !is_final_status(a.code);
    case Call::get:
      return a.http_status == 200 && !is_final_status(a.code);
  }
  return false;
}

// A pay answer after which the transaction may exist: it was created, or the request may
// have been acted on before the answer was lost. The others refuse before anything is stored.
bool may_have_created(const Answer& a) {
  if (a.call != Call::pay) {
    return false;
  }
  switch (a.http_status) {
    case 400:
    case 401:
    case 404:
    case 429:
      return false;
    case 409:
      return a.code != "PAYMENT_IN_PROGRESS" && a.code != "DUPLICATE_TRANSACTION";
    case 503:
      return a.code != "TERMINAL_OFFLINE";
    default:
      return true;
  }
}

std::string describe(const Answer& a) {
  std::string text = kind_of(a);
  if (!a.body.empty()) {
    text += ": " + a.body.substr(0, 400);
  }
  return text;
}

std::string stored_text(const StoredTransaction* stored) {
  return stored == nullptr ? std::string("404 (no such transaction)") : stored->status;
}

template <typename Map>
const typename Map::mapped_type* find_in(const Map& map, const std::string& key) {
  const auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

void check_answer(const Payment& payment, const Answer& a, const StoredTransaction* stored,
                  Invariant& inv) {
  const auto& id = payment.transaction_id;
  const auto fail = [&](const std::string& why) {
    inv.fail(id, id + ": merchant got '" + describe(a) + "' but " + why);
  };
  if (a.http_status == 0) {
    return;  // no answer: nothing claimed
  }
  switch (a.call) {
    case Call::pay:
      if (a.http_status == 200) {
        if (!payment_statuses().contains(a.code)) {
          fail("that is not a payment status");
          return;
        }
        const auto answered = transaction_status_of_payment_status(a.code);
        if (stored == nullptr || !may_become(answered, stored->status)) {
          fail("the store says " + stored_text(stored));
        }
        if (a.body_transaction_id != id) {
          fail("the answer names transaction '" + a.body_transaction_id + "'");
        }
        if (a.amount != payment.amount) {
          fail("the amount sent was " + payment.amount);
        }
        if (stored != nullptr && a.code == "SUCCESS" &&
            a.authorization_code != stored->authorization_code) {
          fail("the store's authorizationCode is '" + stored->authorization_code + "'");
        }
      } else if (a.http_status == 202) {
        if (!payment.webhook_mode) {
          fail("the payment was sent in standard mode");
        }
        if (a.code != "PENDING" && a.code != "AWAITING_RECONNECT") {
          fail("a 202 must show an unfinished status");
        }
        if (stored == nullptr) {
          fail("the store says " + stored_text(stored) + " (a 202 means it was stored)");
        }
      } else if (a.http_status == 504) {
        if (a.code != "TIMEOUT") {
          fail("a 504 must be TIMEOUT");
        }
        if (payment.webhook_mode) {
          fail("a webhookMode payment never waits");
        }
        if (a.body_transaction_id != id) {
          fail("the answer names transaction '" + a.body_transaction_id + "'");
        }
        if (stored == nullptr) {
          fail("the store says " + stored_text(stored) + " (a 504 means it was stored)");
        }
      } else if (a.http_status == 409) {
        if (a.code != "PAYMENT_IN_PROGRESS") {
          fail("every retry carried the same body to the same terminal");
        }
      } else if (a.http_status == 503) {
        if (a.code != "TERMINAL_OFFLINE" && a.code != "SERVICE_UNAVAILABLE" &&
            a.code != "STORE_UNAVAILABLE") {
          fail("503 must be TERMINAL_OFFLINE, SERVICE_UNAVAILABLE or STORE_UNAVAILABLE");
        }
      } else if (a.http_status != 429) {
        fail("that answer is not one a well-formed payment can get");
      }
      return;
    case Call::cancel:
      if (a.http_status == 202) {
        if (stored == nullptr) {
          fail("the store says " + stored_text(stored));
        } else if (is_final_status(a.code)) {
          fail("a cancel answered 202 shows an unfinished transaction");
        }
      } else if (a.http_status == 409) {
        if (a.code != "TRANSACTION_FINAL") {
          fail("a cancel's 409 must be TRANSACTION_FINAL");
        } else if (stored == nullptr || !is_final_status(stored->status)) {
          fail("the store says " + stored_text(stored));
        }
      } else if (a.http_status != 404 && a.http_status != 429 && a.http_status != 503) {
        fail("that answer is not one a cancel can get");
      }
      return;
    case Call::get:
      if (a.http_status == 200) {
        if (stored == nullptr) {
          fail("the store now says " + stored_text(stored));
        } else if (is_final_status(a.code) && !may_become(a.code, stored->status)) {
          fail("the store now says " + stored->status);
        } else if (!is_final_status(a.code) && a.code != "PENDING" &&
                   a.code != "AWAITING_RECONNECT") {
          fail("that is not a transaction status");
        }
      } else if (a.http_status != 404 && a.http_status != 429 && a.http_status != 503) {
        fail("that answer is not one a GET can get");
      }
      return;
  }
}

void check_answers(const Evidence& e, Invariant& inv) {
  for (const auto& payment : e.payments) {
    const auto* stored = find_in(e.stored, payment.transaction_id);
    for (const auto& answer : payment.answers) {
      ++inv.checked;
      check_answer(payment, answer, stored, inv);
    }
    // The stored transaction is the one this client asked for, and some attempt may have
    // created it.
    ++inv.checked;
    if (stored == nullptr) {
      continue;
    }
    const auto& id = payment.transaction_id;
    if (stored->device_id != payment.device_id || stored->amount != payment.amount ||
        stored->webhook_mode != payment.webhook_mode) {
      inv.fail(id, id + ": sent to " + payment.device_id + " for " + payment.amount +
                       (payment.webhook_mode ? " in webhookMode" : " in standard mode") +
                       ", stored as " + stored->body.substr(0, 400));
    }
    if (std::none_of(payment.answers.begin(), payment.answers.end(), may_have_created)) {
      std::string kinds;
      for (const auto& a : payment.answers) {
        kinds += (kinds.empty() ? "" : ", ") + kind_of(a);
      }
      inv.fail(id, id + ": stored as " + stored->status +
                       " although every attempt was refused before anything is stored (" + kinds +
                       ")");
    }
  }
}

void check_answer_order(const Evidence& e, Invariant& inv) {
  for (const auto& payment : e.payments) {
    const auto& answers = payment.answers;
    for (const auto& later : answers) {
      bool has_earlier = false;
      for (const auto& earlier : answers) {
        if (!(earlier.received < later.sent) || earlier.http_status == 0) {
          continue;
        }
        const bool exists = proves_existence(earlier);
        const auto final = final_status_in(earlier);
        if (!exists && !final) {
          continue;
        }
        has_earlier = true;
        const auto& id = payment.transaction_id;
        const auto fail = [&](const std::string& why) {
          inv.fail(id, id + ": '" + describe(later) + "' came after '" + describe(earlier) +
                           "' had been received: " + why);
        };
        if (exists && later.http_status == 404) {
          fail("the transaction vanished");
        }
        if (final) {
          if (claims_unfinished(later)) {
            fail("a final transaction went back to unfinished");
          }
          if (const auto later_final = final_status_in(later);
              later_final && !may_become(*final, *later_final)) {
            fail("a final status changed");
          }
        }
      }
      if (has_earlier) {
        ++inv.checked;
      }
    }
  }
}

void check_journals(const Evidence& e, Invariant& double_charge, Invariant& charged_means_paid,
                    Invariant& seen_is_stored, Invariant& acks) {
  for (const auto& [id, j] : e.journals) {
    const auto* stored = find_in(e.stored, id);
    ++double_charge.checked;
    if (j.charges.size() > 1) {
      std::string codes;
      for (const auto& code : j.charges) {
        codes += (codes.empty() ? "" : ", ") + code;
      }
      double_charge.fail(id, id + ": charged " + std::to_string(j.charges.size()) +
                                 " times (authorization codes " + codes + ")");
    }
    if (j.devices.size() > 1 || (stored != nullptr && !j.devices.contains(stored->device_id))) {
      std::string devices;
      for (const auto& device : j.devices) {
        devices += (devices.empty() ? "" : ", ") + device;
      }
      double_charge.fail(id, id + ": in the journals of " + devices + ", stored for " +
                                 (stored != nullptr ? stored->device_id : "(none)"));
    }
    ++seen_is_stored.checked;
    if (stored == nullptr) {
      seen_is_stored.fail(id, id + ": a terminal was asked to collect it, but GET answers 404");
    }
    if (!j.charges.empty()) {
      ++charged_means_paid.checked;
      if (stored == nullptr || (stored->status != "COMPLETED" && stored->status != "VOIDED")) {
        charged_means_paid.fail(id, id + ": the terminal charged the card (auth " +
                                        j.charges.front() + ") but the store says " +
                                        stored_text(stored));
      }
    }
    if (j.acked) {
      ++acks.checked;
      if (stored == nullptr || !may_become(*j.acked, stored->status)) {
        acks.fail(id, id + ": the terminal's result (" + j.result.value_or("?") +
                          ") was acknowledged as " + *j.acked + " but the store says " +
                          stored_text(stored));
      }
    }
  }
}

void check_store_against_journals(const Evidence& e, Invariant& completed, Invariant& voided) {
  for (const auto& [id, stored] : e.stored) {
    const auto* j = find_in(e.journals, id);
    if (stored.status == "COMPLETED") {
      ++completed.checked;
      if (j == nullptr || j->charges.size() != 1 || !j->devices.contains(stored.device_id)) {
        completed.fail(id, id + ": COMPLETED but its terminal " + stored.device_id +
                               " charged it " +
                               std::to_string(j == nullptr ? 0 : j->charges.size()) + " times");
      } else if (j->charges.front() != stored.authorization_code) {
        completed.fail(id, id + ": COMPLETED with authorizationCode '" + stored.authorization_code +
                               "' but the terminal charged with '" + j->charges.front() + "'");
      }
    } else if (stored.status == "VOIDED") {
      ++voided.checked;
      if (j == nullptr || j->charges.empty() || j->voids < 1) {
        voided.fail(id, id + ": VOIDED but its terminal " + stored.device_id + " charged it " +
                            std::to_string(j == nullptr ? 0 : j->charges.size()) +
                            " times and reversed it " +
                            std::to_string(j == nullptr ? 0 : j->voids) + " times");
      }
    }
  }
}

std::string expected_data_status(const std::string& event_type) {
  static const std::map<std::string, std::string> statuses{{"payment.completed", "SUCCESS"},
                                                           {"payment.failed", "FAILED"},
                                                           {"payment.cancelled", "CANCELLED"},
                                                           {"payment.timeout", "TIMEOUT"},
                                                           {"payment.voided", "VOIDED"}};
  const auto it = statuses.find(event_type);
  return it == statuses.end() ? std::string("?") : it->second;
}

void check_webhooks(const Evidence& e, Invariant& inv) {
  std::map<std::string, std::vector<const ReceivedEvent*>> by_transaction;
  for (const auto& event : e.events) {
    by_transaction[event.transaction_id].push_back(&event);
  }
  for (const auto& [id, listed] : e.listed) {
    const auto& [merchant, stored] = listed;
    if (!is_final_status(stored.status)) {
      continue;  // reported by nothing-unfinished
    }
    ++inv.checked;
    std::set<std::string> expected{event_type_for(stored.status)};
    if (stored.status == "VOIDED") {
      expected.insert("payment.timeout");
    }
    const auto& events = by_transaction[id];
    for (const auto& type : expected) {
      std::set<std::string> ids;
      for (const auto* event : events) {
        if (event->event_type == type) {
          ids.insert(event->event_id);
        }
      }
      if (ids.empty()) {
        inv.fail(id, id + ": " + stored.status + " but merchant " + std::to_string(merchant) +
                         "'s receiver never got its " + type + " event");
      } else if (ids.size() > 1) {
        inv.fail(id, id + ": " + std::to_string(ids.size()) + " distinct eventIds of " + type);
      }
    }
    for (const auto* event : events) {
      if (!expected.contains(event->event_type)) {
        inv.fail(id, id + ": stored " + stored.status + " but announced by " + event->event_type +
                         " (" + event->event_id + ")");
      }
      if (event->data_status != expected_data_status(event->event_type)) {
        inv.fail(id, id + ": " + event->event_type + " " + event->event_id +
                         " carries data.status " + event->data_status);
      }
      if (event->merchant != merchant) {
        inv.fail(id, id + ": " + event->event_id + " reached merchant " +
                         std::to_string(event->merchant) + "'s receiver");
      }
      if (event->bodies_differ) {
        inv.fail(id, id + ": copies of " + event->event_id + " carried different bodies");
      }
    }
  }
  for (const auto& [id, events] : by_transaction) {
    if (!e.listed.contains(id)) {
      inv.fail(id, id + ": " + events.front()->event_type + " " + events.front()->event_id +
                       " announces a transaction no listing shows");
    }
  }
}

void check_unfinished(const Evidence& e, Invariant& inv) {
  std::set<std::string> ids;
  for (const auto& [id, listed] : e.listed) {
    ids.insert(id);
  }
  for (const auto& [id, stored] : e.stored) {
    ids.insert(id);
  }
  for (const auto& id : ids) {
    ++inv.checked;
    const auto* listed = find_in(e.listed, id);
    const auto* stored = find_in(e.stored, id);
    const auto& status = stored != nullptr ? stored->status : listed->second.status;
    if (!is_final_status(status)) {
      inv.fail(id, id + ": still " + status + " after its deadline plus the grace");
    }
    if (listed == nullptr) {
      inv.fail(id, id + ": GET finds it but no listing shows it");
    }
  }
}

}  // namespace

void Invariant::fail(const std::string& transaction_id, std::string message) {
  transactions.insert(transaction_id);
  violations.push_back(std::move(message));
}

std::string kind_of(const Answer& a) {
  std::string text = call_name(a.call);
  if (a.http_status == 0) {
    return text + " transport error";
  }
  text += " " + std::to_string(a.http_status);
  if (!a.code.empty()) {
    text += " " + a.code;
  }
  return text;
}

bool is_final_status(const std::string& transaction_status) {
  return final_statuses().contains(transaction_status);
}

std::string transaction_status_of_payment_status(const std::string& payment_status) {
  return payment_status == "SUCCESS" ? std::string("COMPLETED") : payment_status;
}

std::string event_type_for(const std::string& transaction_status) {
  static const std::map<std::string, std::string> types{{"COMPLETED", "payment.completed"},
                                                        {"FAILED", "payment.failed"},
                                                        {"CANCELLED", "payment.cancelled"},
                                                        {"TIMEOUT", "payment.timeout"},
                                                        {"VOIDED", "payment.voided"}};
  const auto it = types.find(transaction_status);
  return it == types.end() ? std::string("(none)") : it->second;
}

std::vector<Invariant> check_invariants(const Evidence& evidence) {
  std::vector<Invariant> out;
  const auto add = [&out](std::string name, std::string statement) -> Invariant& {
    out.push_back(Invariant{std::move(name), std::move(statement), 0, {}, {}});
    return out.back();
  };
  out.reserve(10);
  auto& answers = add("answers-match-store",
                      "every answer a merchant received agrees with the stored transaction");
  auto& order = add("answers-never-go-back",
                    "no answer contradicts an answer received before its request was sent");
  auto& double_charge =
      add("no-double-charge", "no transactionId was charged twice, on any terminal");
  auto& charged = add("charged-is-completed-or-voided",
                      "every charge a terminal journaled is COMPLETED or VOIDED in the store");
  auto& webhooks = add("final-webhook-received",
                       "every final transaction's event reached its merchant's receiver");
  auto& unfinished =
      add("nothing-unfinished", "no transaction is unfinished after its deadline plus the grace");
  auto& completed = add("completed-was-charged",
                        "every COMPLETED was charged once, with the stored authorizationCode");
  auto& voided =
      add("voided-was-reversed", "every VOIDED charge was reversed on its terminal (payment.void)");
  auto& seen = add("terminal-saw-only-stored",
                   "every transaction a terminal was asked to collect is stored");
  auto& acks = add("terminal-acks-match-store",
                   "every payment.result.ack a terminal journaled matches the store");
  check_answers(evidence, answers);
  check_answer_order(evidence, order);
  check_journals(evidence, double_charge, charged, seen, acks);
  check_webhooks(evidence, webhooks);
  check_unfinished(evidence, unfinished);
  check_store_against_journals(evidence, completed, voided);
  return out;
}

}  // namespace tillgate::chaos
