#!/usr/bin/env python3
"""Writes the hand-made seed corpora under fuzz/corpus/<target>/ (docs/fuzzing.md).

Each seed is a small, meaningful input: the specs' examples, the unit tests' cases and the
edges the rules name. Run it again after changing a seed here; inputs added by
`fuzz/run merge` (named by their SHA-1) are left alone.
"""
import base64
import hashlib
import hmac
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "corpus"
JWT_KEY = b"fuzz-signing-key"          # jwt_fuzzer.cpp kKey
MERCHANT_SECRET = b"tgs_fuzzsecretfuzzsecretfuzzsecretfuzzsecretfuzzsecret"  # merchant_auth
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
NOW = "2024-01-15T10:30:00.000Z"      # fuzz_support.hpp fixed_now()
NOW_S = 1705314600


def write(target, name, data):
    directory = ROOT / target
    directory.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (directory / name).write_bytes(data)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---- json -------------------------------------------------------------------------------
for name, text in {
    "object": '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    "numbers": '[0,-0,1,-1,99.99,1e3,1E-2,-2.5e+10,9223372036854775807,-9223372036854775808,'
               '9223372036854775808,123456789012345678901234567890]',
    "strings": r'["plain","esc \" \\ \/ \b \f \n \r \t","\u00e9\u20ac","\ud83d\ude00","na\u00efve","日本語"]',
    "whitespace": ' \t\r\n{ "k" : [ 1 , 2 ] } \n',
    "depth32": "[" * 32 + "]" * 32,
    "depth33": "[" * 33 + "]" * 33,
    "depth_mixed": '{"a":' * 16 + "[" * 16 + "]" * 16 + "}" * 16,
    "duplicate_key": '{"a":1,"a":2}',
    "duplicate_key_many": "{" + ",".join(f'"k{i}":{i}' for i in range(20)) + ',"k3":0}',
    "trailing_comma": '[1,2,]',
    "lone_surrogate": r'["\ud800"]',
    "low_surrogate": r'["\udc00"]',
    "bad_utf8": b'["\xc0\xaf"]',
    "overlong_utf8": b'["\xe0\x80\xaf"]',
    "control_char": b'["a\x01b"]',
    "nan": '[NaN,Infinity]',
    "leading_zero": '[01]',
    "scalar": '"just a string"',
    "empty": '',
    "garbage_after": '{} x',
    "payment": '{"amount":"99.99","currency":"USD","paymentMethod":"CARD"}',
}.items():
    write("json", name, text)

# ---- money: first byte picks USD JPY KWD CLF NGN BHD UYW EUR (index = byte % 8) ---------
USD, JPY, KWD, CLF, NGN, BHD, UYW, EUR = (chr(48 + i) for i in range(8))
for name, text in {
    "usd_99_99": USD + "99.99", "usd_100": USD + "100", "usd_0_01": USD + "0.01",
    "usd_three_decimals": USD + "1.005", "jpy_100": JPY + "100", "jpy_decimal": JPY + "1.5",
    "kwd_1_000": KWD + "1.000", "clf_4dp": CLF + "0.0001", "ngn_1000": NGN + "1000",
    "bhd": BHD + "12.345", "uyw_max": UYW + "92233720368.5477", "uyw_over": UYW + "99999999999.9999",
    "eur_15_digits": EUR + "9999999999999.99", "eur_16_digits": EUR + "99999999999999.99",
    "zero": USD + "0", "zero_decimals": USD + "0.00", "negative": USD + "-5", "plus": USD + "+5",
    "exponent": USD + "1e3", "exponent_neg": USD + "1E-2", "leading_zero": USD + "01",
    "dot_only": USD + ".5", "trailing_dot": USD + "1.", "two_dots": USD + "1.2.3",
    "hex": USD + "0x10", "space": USD + " 5", "nbsp": USD + "5\u00a0", "empty": USD,
    "nan": USD + "NaN", "infinity": USD + "Infinity", "minor_units_15": USD + "123456789012345",
    "minor_units_19": USD + "9223372036854775807",
}.items():
    write("money", name, text)

# ---- time -------------------------------------------------------------------------------
for name, text in {
    "millis_z": NOW, "seconds_z": "2024-01-15T10:30:00Z", "offset_plus": "2024-01-15T11:30:00+01:00",
    "offset_minus": "2024-01-15T05:30:00.5-05:00", "nine_digits": "2024-01-15T10:30:00.123456789Z",
    "ten_digits": "2024-01-15T10:30:00.1234567890Z", "leap_day": "2024-02-29T00:00:00Z",
    "not_leap_day": "2023-02-29T00:00:00Z", "hour_24": "2024-01-15T24:00:00Z",
    "second_60": "2024-01-15T23:59:60Z", "lower_t": "2024-01-15t10:30:00Z",
    "space_t": "2024-01-15 10:30:00Z", "no_zone": "2024-01-15T10:30:00",
    "offset_no_colon": "2024-01-15T10:30:00+0100", "year_0": "0000-01-01T00:00:00Z",
    "year_9999": "9999-12-31T23:59:59.999Z", "year_0_offset": "0000-01-01T00:00:00+01:00",
    "year_9999_offset": "9999-12-31T23:59:59-01:00", "epoch": "1970-01-01T00:00:00.000Z",
}.items():
    write("time", name, text)

# ---- payment_request ----------------------------------------------------------------------
full = {
    "transactionId": "TXN-1", "amount": "99.99", "currency": "USD", "paymentMethod": "CARD",
    "webhookMode": True,
    "products": [{"id": "sku-1", "name": "Coffee", "price": "4.50", "quantity": 2},
                 {"id": 42, "name": "Café crème", "price": 90.99, "quantity": 1}],
    "customerInfo": {"name": "Ada", "email": "ada@example.com", "tags": [1, 2]},
    "metadata": {"orderId": "A-1", "note": "näive"},
}
for name, body in {
    "minimal": '{"amount":"99.99","currency":"USD","paymentMethod":"CARD"}',
    "number_amount": '{"amount":1000,"currency":"JPY","paymentMethod":"CASH"}',
    "full": json.dumps(full, ensure_ascii=False),
    "kwd": '{"amount":"1.000","currency":"KWD","paymentMethod":"MOBILE","transactionId":"a.b_c:d-e"}',
    "bad_amounts": '{"amount":"1e3","currency":"usd","paymentMethod":"CHEQUE",'
                   '"products":[{"id":"","name":"","price":"+1","quantity":0},7]}',
    "null_options": '{"amount":"5","currency":"EUR","paymentMethod":"OTHER","transactionId":null,'
                    '"webhookMode":null,"products":null,"customerInfo":null,"metadata":null}',
    "wrong_types": '{"amount":true,"currency":1,"paymentMethod":[],"webhookMode":"yes",'
                   '"products":{},"customerInfo":[],"metadata":{"k":1,"":"v"}}',
    "not_object": '[1,2,3]',
    "invalid_json": '{"amount":',
    "deep_customer_info": '{"amount":"1","currency":"USD","paymentMethod":"CARD","customerInfo":'
                          + '{"a":' * 30 + '1' + '}' * 30 + '}',
    "many_products": json.dumps({"amount": "1", "currency": "USD", "paymentMethod": "CARD",
                                 "products": [{"id": str(i), "name": "p", "price": "1",
                                               "quantity": 1} for i in range(101)]}),
    "long_metadata": json.dumps({"amount": "1", "currency": "USD", "paymentMethod": "CARD",
                                 "metadata": {"k" * 41: "v", "ok": "x" * 501}}),
}.items():
    write("payment_request", name, body)

# ---- nomba_request: first byte even = major units, odd = minor -------------------------
for name, data in {
    "major_ngn": '0{"merchantTxRef":"55555555","amount":1000,"currency":"NGN"}',
    "minor_ngn": '1{"merchantTxRef":"r1","amount":100050,"currency":"NGN"}',
    "major_fraction": '0{"merchantTxRef":"r2","amount":1000.55,"currency":"NGN","orderId":"x"}',
    "minor_fraction": '1{"merchantTxRef":"r1","amount":1000.5,"currency":"NGN"}',
    "string_amount": '0{"merchantTxRef":"r3","amount":"1000","currency":"NGN"}',
    "exponent": '0{"merchantTxRef":"r4","amount":1e3,"currency":"NGN"}',
    "missing": '0{}',
    "bad_ref": '0{"merchantTxRef":"has space","amount":-1,"currency":"ngn"}',
    "jpy": '0{"merchantTxRef":"r5","amount":500,"currency":"JPY"}',
}.items():
    write("nomba_request", name, data)

# ---- merchant_auth: flags, method, target, x-api-key, x-timestamp, x-signature, body -----
def merchant_seed(method, target, timestamp, body, key="tgk_abc", flags="\x00", sign=True):
    content = "\n".join([method, target, timestamp, hashlib.sha256(body.encode()).hexdigest()])
    signature = base64.b64encode(hmac.new(MERCHANT_SECRET, content.encode(), hashlib.sha256)
                                 .digest()).decode() if sign else "bm90IGEgc2lnbmF0dXJl"
    return "\n".join([flags, method, target, key, timestamp, signature, body])

body = '{"amount":"99.99","currency":"USD","paymentMethod":"CARD"}'
for name, data in {
    "signed_post": merchant_seed("POST", "/v1/terminals/T1/payments", NOW, body),
    "signed_get_query": merchant_seed("GET", "/v1/transactions?limit=5&status=PENDING",
                                      "2024-01-15T10:30:00Z", ""),
    "signed_offset": merchant_seed("GET", "/v1/terminals", "2024-01-15T11:34:59+01:00", ""),
    "wrong_signature": merchant_seed("POST", "/v1/terminals/T1/payments", NOW, body, sign=False),
    "expired": merchant_seed("GET", "/v1/terminals", "2024-01-15T10:24:59Z", ""),
    "future": merchant_seed("GET", "/v1/terminals", "2024-01-15T10:35:01Z", ""),
    "bad_timestamp": merchant_seed("GET", "/v1/terminals", "yesterday", ""),
    "missing_key": merchant_seed("GET", "/v1/terminals", NOW, "", flags="\x01"),
    "missing_all": merchant_seed("GET", "/v1/terminals", NOW, "", flags="\x07"),
    "decoys": merchant_seed("GET", "/v1/terminals", NOW, "", flags="\x08"),
    "empty_key": merchant_seed("GET", "/v1/terminals", NOW, "", key=""),
}.items():
    write("merchant_auth", name, data)

# ---- webhook_signature: secret, id, timestamp, signature header, body -------------------
def webhook_seed(timestamp, body, header=None, webhook_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
                 secret=WEBHOOK_SECRET):
    if header is None:
        key = base64.b64decode(secret[len("whsec_"):])
        mac = hmac.new(key, f"{webhook_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
        header = "v1," + base64.b64encode(mac).decode()
    return "\n".join([secret, webhook_id, timestamp, header, body])

event = '{"type":"payment.completed","data":{"transactionId":"TXN-1","amount":"99.99"}}'
for name, data in {
    "valid": webhook_seed(str(NOW_S), event),
    "valid_multiple": webhook_seed(str(NOW_S + 299), event, None).replace(
        "\nv1,", "\nv1,bogus v2,abc v1,", 1),
    "too_old": webhook_seed(str(NOW_S - 301), event),
    "too_new": webhook_seed(str(NOW_S + 301), event),
    "leading_zero_ts": webhook_seed("0" + str(NOW_S), event),
    "negative_ts": webhook_seed("-1", event),
    "fraction_ts": webhook_seed(str(NOW_S) + ".5", event),
    "bad_secret": webhook_seed(str(NOW_S), event, header="v1,AAAA", secret="whsec_!!!"),
    "no_prefix": webhook_seed(str(NOW_S), event, header="v1,AAAA", secret="secret"),
    "empty_key": webhook_seed(str(NOW_S), event, header="v1,AAAA", secret="whsec_"),
    "wrong_mac": webhook_seed(str(NOW_S), event, header="v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="),
}.items():
    write("webhook_signature", name, data)

# ---- terminal_frame ----------------------------------------------------------------------
for name, frame in {
    "hello": '{"type":"hello","deviceId":"T1","deviceSecret":"tds_abc","software":"sim/1.0"}',
    "hello_missing_secret": '{"type":"hello","deviceId":"T1"}',
    "ack": '{"type":"payment.ack","transactionId":"TXN-1"}',
    "result_success": '{"type":"payment.result","transactionId":"TXN-1","status":"SUCCESS",'
                      '"authorizationCode":"AUTH123456","receiptData":"...","completedAt":"' + NOW + '"}',
    "result_failed": '{"type":"payment.result","transactionId":"TXN-2","status":"FAILED",'
                     '"errorCode":"05","errorMessage":"Declined","completedAt":"2024-01-15T11:30:00.5+01:00"}',
    "result_cancelled": '{"type":"payment.result","transactionId":"TXN-3","status":"CANCELLED",'
                        '"completedAt":"2024-01-15T10:30:00Z","errorCode":null}',
    "result_bad_status": '{"type":"payment.result","transactionId":"X","status":"MAYBE",'
                         '"completedAt":"2024-01-15T10:30:00Z"}',
    "result_bad_time": '{"type":"payment.result","transactionId":"X","status":"SUCCESS",'
                       '"completedAt":"15/01/2024"}',
    "voided": '{"type":"payment.voided","transactionId":"TXN-1"}',
    "unknown_type": '{"type":"payment.refund","transactionId":"TXN-1"}',
    "bad_transaction_id": '{"type":"payment.ack","transactionId":"has space"}',
    "no_type": '{"transactionId":"TXN-1"}',
    "not_object": '["hello"]',
    "invalid_json": '{"type":"hello"',
    "too_deep": "[" * 17 + "]" * 17,
}.items():
    write("terminal_frame", name, frame)

# ---- jwt: mode byte (even: token as is; odd: header\nclaims signed here) ----------------
def jwt(header, claims):
    token = b64url(header.encode()) + "." + b64url(claims.encode())
    mac = hmac.new(JWT_KEY, token.encode(), hashlib.sha256).digest()
    return token + "." + b64url(mac)

HS = '{"alg":"HS256","typ":"JWT"}'
ours = ('{"iss":"tillgate","sub":"mch_1","key":"tgk_1","iat":%d,"exp":%d,"jti":"abc"}'
        % (NOW_S - 60, NOW_S + 3600))
for name, data in {
    "token_valid": "\x00" + jwt(HS, ours),
    "token_expired": "\x00" + jwt(HS, '{"sub":"mch_1","exp":%d}' % (NOW_S - 1)),
    "token_other_key": "\x00" + b64url(HS.encode()) + "." + b64url(ours.encode()) + "." + "A" * 43,
    "token_none": "\x00" + b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(ours.encode()) + ".",
    "token_padded": "\x00" + jwt(HS, ours) + "=",
    "token_four_segments": "\x00" + jwt(HS, ours) + ".e30",
    "token_empty": "\x00",
    "signed_ours": "\x01" + HS + "\n" + ours,
    "signed_leeway": "\x03" + HS + "\n" + '{"exp":%d,"nbf":%d}' % (NOW_S - 1, NOW_S + 2),
    "signed_rs256": "\x01" + '{"alg":"RS256"}' + "\n" + ours,
    "signed_alg_case": "\x01" + '{"alg":"hs256"}' + "\n" + ours,
    "signed_crit": "\x01" + '{"alg":"HS256","crit":["b64"],"b64":false}' + "\n" + ours,
    "signed_no_alg": "\x01" + '{"typ":"JWT"}' + "\n" + ours,
    "signed_missing_exp": "\x01" + HS + "\n" + '{"iss":"tillgate","sub":"mch_1","key":"k"}',
    "signed_fraction_exp": "\x01" + HS + "\n" + '{"exp":%d.5}' % (NOW_S + 10),
    "signed_string_exp": "\x05" + HS + "\n" + '{"exp":"%d"}' % (NOW_S + 10),
    "signed_huge_exp": "\x07" + HS + "\n" + '{"exp":253402300800,"iat":-1}',
    "signed_not_yet": "\x01" + HS + "\n" + '{"exp":%d,"iat":%d}' % (NOW_S + 7200, NOW_S + 3600),
    "signed_other_iss": "\x01" + HS + "\n" + ours.replace("tillgate", "nomba"),
    "signed_claims_array": "\x01" + HS + "\n" + '[1,2]',
}.items():
    write("jwt", name, data)
