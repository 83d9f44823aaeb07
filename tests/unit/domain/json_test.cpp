#include "json/json.hpp"
#include "json/member.hpp"
#include "json/plain_bytes.hpp"
#include "json/writer.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace tillgate::json {
namespace {

using namespace std::string_view_literals;

Value parsed(std::string_view text) {
  auto result = parse(text);
  EXPECT_TRUE(result.has_value()) << text << ": "
                                  << (result ? std::string() : result.error().message);
  return result ? std::move(*result) : Value();
}

ParseError error_of(std::string_view text, const ParseLimits& limits = {}) {
  auto result = parse(text, limits);
  EXPECT_FALSE(result.has_value()) << text;
  return result ? ParseError{} : result.error();
}

TEST(JsonParse, CanonicalDocumentsRoundTrip) {
  for (const std::string_view text : {
           R"(null)",
           R"(true)",
           R"(false)",
           R"(0)",
           R"(-1)",
           R"("")",
           R"([])",
           R"({})",
           R"([1,"two",null,true,false,{"a":[]}])",
           R"({"amount":"99.99","currency":"USD","n":99.99,"big":123456789012345678901234567890})",
           R"({"nested":{"deeper":{"list":[[],[{}],[1,[2,[3]]]]}}})",
           R"({"b":1,"a":2})",
           "\"caf\xC3\xA9 \xF0\x9F\x98\x80\"",
           R"("quote\" backslash\\ newline\n tab\t cr\r bs\b ff\f nul\u0000 us\u001f")",
       }) {
    EXPECT_EQ(serialize(parsed(text)), text);
  }
}

TEST(JsonParse, KeepsNumberTextExactly) {
  for (const std::string_view text :
       {"99.99", "1e3", "-0.0", "1E+2", "1e-7", "0.1", "-0", "123456789012345678901234567890",
        "3.141592653589793238462643383279"}) {
    const Value value = parsed(text);
    ASSERT_TRUE(value.is_number());
    EXPECT_EQ(value.as_number().text, text);
    EXPECT_EQ(serialize(value), text);
  }
  EXPECT_EQ(parsed(R"({"amount":99.99})").find("amount")->as_number().text, "99.99");
}

TEST(JsonParse, AcceptsSurroundingWhitespace) {
  const Value value = parsed(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n ");
  EXPECT_EQ(serialize(value), R"({"a":[1,2]})");
}

TEST(JsonParse, DecodesEscapesAndSurrogatePairs) {
  EXPECT_EQ(parsed(R"("\u00e9")").as_string(), "\xC3\xA9");
  EXPECT_EQ(parsed(R"("\u20AC")").as_string(), "\xE2\x82\xAC");
  EXPECT_EQ(parsed(R"("\ud83d\ude00")").as_string(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(parsed(R"("\uDBFF\uDFFF")").as_string(), "\xF4\x8F\xBF\xBF");
  EXPECT_EQ(parsed(R"("\u0041\/\"\\\b\f\n\r\t")").as_string(), "A/\"\\\b\f\n\r\t");
  EXPECT_EQ(parsed(R"("a\u0000b")").as_string(), std::string("a\0b", 3));
  EXPECT_EQ(parsed("\"\xF0\x9F\x98\x80\"").as_string(), "\xF0\x9F\x98\x80");
}

TEST(JsonParse, RejectsTrailingCommas) {
  EXPECT_NE(error_of("[1,2,]").message.find("trailing comma"), std::string::npos);
  error_of(R"({"a":1,})");
  error_of("[,]");
  error_of("[1,,2]");
}

TEST(JsonParse, RejectsCommentsAndNonJsonLiterals) {
  for (const std::string_view text :
       {"// c\n1", "/* c */ 1", "[1 /* c */]", "NaN", "Infinity", "-Infinity", "nan", "undefined",
        "True",    "nul",       "tru",         "'a'", "{a:1}",    "[1;2]",     "+1",  "0x10",
        ".5",      "1.",        "1.e3",        "1e",  "1e+",      "-",         "--1"}) {
    error_of(text);
  }
}

TEST(JsonParse, RejectsLeadingZeros) {
  const ParseError error = error_of("012");
  EXPECT_EQ(error.offset, 1U);
  EXPECT_NE(error.message.find("leading zero"), std::string::npos) << error.message;
  error_of("-01");
  error_of("[00]");
}

TEST(JsonParse, RejectsLoneSurrogateEscapes) {
  for (const std::string_view text :
       {R"("\ud800")", R"("\udc00")", R"("\ud800x")", R"("\ud800\u0041")", R"("\ud800\ud800")",
        R"("\ude00\ud83d")", R"("\ud800\")", R"("\ud800\u12")"}) {
    error_of(text);
  }
}

TEST(JsonParse, RejectsInvalidEscapes) {
  for (const std::string_view text :
       {R"("\x41")", R"("\a")", R"("\U0041")", R"("\u12")", R"("\u12g4")", R"("\')", "\"\\"}) {
    error_of(text);
  }
}

TEST(JsonParse, RejectsInvalidUtf8) {
  for (const std::string_view text : {
           "\"\xC3\"",              // truncated
           "\"\x80\"",              // lone continuation byte
           "\"\xC0\xAF\"",          // overlong '/'
           "\"\xC1\xBF\"",          // overlong
           "\"\xE0\x80\xAF\"",      // overlong 3-byte
           "\"\xF0\x80\x80\xAF\"",  // overlong 4-byte
           "\"\xED\xA0\x80\"",      // UTF-8 encoded surrogate U+D800
           "\"\xED\xBF\xBF\"",      // U+DFFF
           "\"\xF4\x90\x80\x80\"",  // U+110000
           "\"\xF5\x80\x80\x80\"",  // lead byte past U+10FFFF
           "\"\xFF\"",              // never valid
           "\"\xE2\x82\"",          // truncated 3-byte
       }) {
    const ParseError error = error_of(text);
    EXPECT_EQ(error.offset, 1U) << error.message;
  }
  error_of("\xEF\xBB\xBF{}");  // a byte-order mark is not JSON
}

TEST(JsonParse, RejectsRawControlCharactersInStrings) {
  for (const std::string_view text :
       {"\"a\nb\""sv, "\"a\tb\""sv, "\"\x01\""sv, "\"\x1F\""sv, "\"a\0b\""sv}) {
    const ParseError error = error_of(text);
    EXPECT_NE(error.message.find("control"), std::string::npos) << error.message;
  }
}

TEST(JsonParse, RejectsDuplicateKeys) {
  const ParseError error = error_of(R"({"a":1,"b":2,"a":3})");
  EXPECT_EQ(error.offset, 13U);
  EXPECT_NE(error.message.find("duplicate"), std::string::npos);
  error_of(R"({"a":1,"\u0061":2})");                               // the same key once decoded
  EXPECT_TRUE(parse(R"({"a":{"a":1},"b":{"a":2}})").has_value());  // per object
}

TEST(JsonParse, RejectsDuplicateKeysInLargeObjects) {
  std::string text = "{";
  for (int i = 0; i < 1000; ++i) {
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  }
  EXPECT_TRUE(parse(text.substr(0, text.size() - 1) + "}").has_value());
  error_of(text + "\"k500\":0}");
  error_of(text + "\"k999\":0}");
  error_of(text + "\"k0\":0}");
}

TEST(JsonParse, RejectsTrailingGarbageAndMultipleValues) {
  for (const std::string_view text :
       {"1 2", "{}{}", "[]]", "{} x", "truex", "nullnull", "\"a\"\"b\"", "1,"}) {
    error_of(text);
  }
}

TEST(JsonParse, RejectsEmptyAndTruncatedInput) {
  for (const std::string_view text :
       {"", "   ", "[", "{", "[1", "[1,", R"({"a")", R"({"a":)", R"({"a":1)", R"("abc)", "{\"a"}) {
    error_of(text);
  }
}

TEST(JsonParse, RejectsBadObjectSyntax) {
  for (const std::string_view text :
       {R"({"a" 1})", R"({1:1})", R"({"a":1 "b":2})", R"({"a"::1})", R"([1:2])", R"({,})"}) {
    error_of(text);
  }
}

TEST(JsonParse, ErrorsNameTheOffsetAndTheProblem) {
  const ParseError error = error_of(R"({"a":1,"b":})");
  EXPECT_EQ(error.offset, 11U);
  EXPECT_EQ(error.message, "unexpected character '}' at byte 11");
  const ParseError garbage = error_of("[1] x");
  EXPECT_EQ(garbage.offset, 4U);
  EXPECT_NE(garbage.message.find("at byte 4"), std::string::npos) << garbage.message;
  const ParseError binary = error_of("\x01");
  EXPECT_NE(binary.message.find("0x01"), std::string::npos) << binary.message;
}

TEST(JsonParse, EnforcesTheDepthLimit) {
  ParseLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(parse("[[[]]]", limits).has_value());
  EXPECT_TRUE(parse(R"({"a":{"b":[1]}})", limits).has_value());
  const ParseError error = error_of("[[[[]]]]", limits);
  EXPECT_EQ(error.offset, 3U);
  EXPECT_NE(error.message.find("nesting"), std::string::npos);
  error_of(R"({"a":{"b":[{}]}})", limits);
  limits.max_depth = 0;
  EXPECT_TRUE(parse("1", limits).has_value());
  error_of("[]", limits);
}

TEST(JsonParse, DefaultDepthIs32) {
  EXPECT_TRUE(parse(std::string(32, '[') + std::string(32, ']')).has_value());
  error_of(std::string(33, '[') + std::string(33, ']'));
}

TEST(JsonParse, SurvivesHostileNesting) {
  error_of(std::string(100000, '['));
  error_of(std::string(1 << 20, '['));
  error_of(std::string(100000, '{'));
  std::string mixed;
  for (int i = 0; i < 50000; ++i) {
    mixed += "{\"a\":[";
  }
  error_of(mixed);
}

TEST(JsonParse, HandlesDeepNestingUnderAGenerousLimit) {
  // The parser keeps its own stack, so a caller's high limit does not recurse either.
  ParseLimits limits;
  limits.max_depth = 10000;
  EXPECT_TRUE(parse(std::string(2000, '[') + std::string(2000, ']'), limits).has_value());
  error_of(std::string(2000, '[') + std::string(1999, ']'), limits);
}

TEST(JsonSerialize, EscapesOnlyWhatItMust) {
  EXPECT_EQ(serialize(Value("a\"b\\c")), R"("a\"b\\c")");
  EXPECT_EQ(serialize(Value("\n\t\r\b\f")), R"("\n\t\r\b\f")");
  EXPECT_EQ(serialize(Value(std::string("\x01\x1f\0", 3))), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(serialize(Value("/ caf\xC3\xA9 \xF0\x9F\x98\x80")),
            "\"/ caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  EXPECT_EQ(serialize(Value("\x7F")), "\"\x7F\"");
}

TEST(JsonSerialize, WritesBuiltValuesCompactly) {
  const Value value = object({{"transactionId", "TXN-1"},
                              {"amount", "99.99"},
                              {"count", 3},
                              {"big", std::int64_t{9'007'199'254'740'993}},
                              {"price", Number{"99.99"}},
                              {"ok", true},
                              {"error", nullptr},
                              {"items", Array{1, "x", Array{}, object({})}}});
  EXPECT_EQ(serialize(value),
            R"({"transactionId":"TXN-1","amount":"99.99","count":3,"big":9007199254740993,)"
            R"("price":99.99,"ok":true,"error":null,"items":[1,"x",[],{}]})");
  EXPECT_EQ(parsed(serialize(value)), value);
}

TEST(JsonNumber, AsInt64OnlyForPlainIntegersInRange) {
  EXPECT_EQ(Number{"0"}.as_int64(), 0);
  EXPECT_EQ(Number{"-0"}.as_int64(), 0);
  EXPECT_EQ(Number{"42"}.as_int64(), 42);
  EXPECT_EQ(Number{"-42"}.as_int64(), -42);
  EXPECT_EQ(Number{"9223372036854775807"}.as_int64(), INT64_MAX);
  EXPECT_EQ(Number{"-9223372036854775808"}.as_int64(), INT64_MIN);
  for (const std::string_view text :
       {"9223372036854775808", "-9223372036854775809", "99999999999999999999", "1.0", "1e3", "1E0",
        "-1.5", "", "-", "+1", "01", " 1", "1 ", "0x1"}) {
    EXPECT_EQ(Number{std::string(text)}.as_int64(), std::nullopt) << text;
  }
}

TEST(JsonValue, FindsMembersAndStrings) {
  const Value doc = parsed(R"({"a":"x","b":1,"c":null,"d":{"e":"y"}})");
  ASSERT_NE(doc.find("a"), nullptr);
  EXPECT_EQ(doc.find("a")->as_string(), "x");
  EXPECT_EQ(doc.find("missing"), nullptr);
  EXPECT_EQ(doc.find_string("a"), "x");
  EXPECT_EQ(doc.find_string("b"), std::nullopt);
  EXPECT_EQ(doc.find_string("c"), std::nullopt);
  EXPECT_EQ(doc.find_string("missing"), std::nullopt);
  EXPECT_EQ(doc.find("d")->find_string("e"), "y");
  EXPECT_EQ(Value(Array{}).find("a"), nullptr);
  EXPECT_EQ(Value("s").find_string("a"), std::nullopt);
}

TEST(JsonValue, NamesItsType) {
  EXPECT_EQ(Value().type_name(), "null");
  EXPECT_EQ(Value(false).type_name(), "boolean");
  EXPECT_EQ(Value(1).type_name(), "number");
  EXPECT_EQ(Value("s").type_name(), "string");
  EXPECT_EQ(Value(Array{}).type_name(), "array");
  EXPECT_EQ(Value(Object{}).type_name(), "object");
}

TEST(JsonValue, ComparesDeeply) {
  EXPECT_EQ(parsed(R"({"a":[1,{"b":"c"}]})"), parsed(R"({ "a" : [ 1 , { "b" : "c" } ] })"));
  EXPECT_NE(parsed(R"({"a":[1,{"b":"c"}]})"), parsed(R"({"a":[1,{"b":"d"}]})"));
  EXPECT_NE(parsed(R"({"a":1,"b":2})"), parsed(R"({"b":2,"a":1})"));  // order is kept
  EXPECT_NE(parsed("1.0"), parsed("1"));                              // numbers compare by text
  EXPECT_NE(Value("1"), Value(1));
  EXPECT_NE(Value(), Value(false));
  EXPECT_EQ(Value(std::int64_t{5}), Value(5));
}

TEST(JsonValue, ValueThrowsOnlyWhenAskedTo) {
  EXPECT_THROW(static_cast<void>(parse("[").value()), std::invalid_argument);
  EXPECT_EQ(parse("[]").value(), Value(Array{}));
}

TEST(JsonMember, IsTheMemberTheWholeParseFindsAndStepsOverEverythingBeforeIt) {
  const std::string_view documents[] = {
      R"({"metadata":{"order":"A-1"}})",
      R"({"amount":"1.00","products":[{"id":"p}1","name":"a \"quoted\" ]name"}],"metadata":{"k":[1,2,{"x":null}]},"after":true})",
      R"( { "customerInfo" : { "email" : "a@b" } , "metadata" : "text, with } and ]" } )",
      R"({"n":-1.5e3,"t":true,"f":false,"z":null,"metadata":42})",
      R"({"meta\u0064ata":[]})",
      R"({"metadata":null})",
      R"({"a":"\\","metadata":{"\\":"\\\""}})",
  };
  for (const auto text : documents) {
    const auto whole = parse(text);
    ASSERT_TRUE(whole.has_value()) << text;
    const auto member = parse_member(text, "metadata");
    ASSERT_TRUE(member.has_value()) << text;
    EXPECT_EQ(serialize(*member), serialize(*whole->find("metadata"))) << text;
  }
}

TEST(JsonMember, IsNothingWithoutTheMemberOrAnObjectOrAtMalformedText) {
  for (const auto text :
       {R"({})"sv, R"({"other":{"metadata":1}})"sv, R"([{"metadata":1}])"sv, R"("metadata")"sv,
        ""sv, R"({"a":)"sv, R"({"a" 1,"metadata":2})"sv, R"({"a":"unterminated,"metadata":2})"sv,
        R"({"a":{"b":1,"metadata":2})"sv, R"({"a":1 "metadata":2})"sv}) {
    EXPECT_FALSE(parse_member(text, "metadata").has_value()) << text;
  }
  // Nothing after the member is read (the documents are the gateway's own).
  EXPECT_TRUE(parse_member(R"({"metadata":{"open":1})", "metadata").has_value());
  // The member's own value is parsed strictly, with the limits given.
  EXPECT_FALSE(parse_member(R"({"metadata":[1,]})", "metadata").has_value());
  EXPECT_FALSE(
      parse_member(R"({"metadata":[[[1]]]})", "metadata", ParseLimits{.max_depth = 2}).has_value());
  EXPECT_TRUE(
      parse_member(R"({"metadata":[[1]]})", "metadata", ParseLimits{.max_depth = 2}).has_value());
}

TEST(JsonMember, ItsTextIsTheMemberAsWrittenWhichParsesToTheSameValue) {
  const std::string_view text =
      R"({"a":"}\"{","metadata":{"k":[1,{"x":"a,b]"}],"e":"\u00e9\n"},"z":0})";
  const auto member = member_text(text, "metadata");
  ASSERT_TRUE(member.has_value());
  EXPECT_EQ(*member, R"({"k":[1,{"x":"a,b]"}],"e":"\u00e9\n"})");
  EXPECT_EQ(parsed(*member), *parsed(text).find("metadata"));
  EXPECT_EQ(member_text(R"({"n":-1.5e3,"metadata":42})", "metadata"), "42");
  EXPECT_EQ(member_text(R"({"metadata":null,"b":1})", "metadata"), "null");
  for (const auto absent : {R"({})"sv, R"({"other":{"metadata":1}})"sv, R"([{"metadata":1}])"sv,
                            ""sv, R"({"a":"unterminated,"metadata":2})"sv}) {
    EXPECT_FALSE(member_text(absent, "metadata").has_value()) << absent;
  }
}

// What the writer writes is what serialize writes for the same document, byte for byte.
TEST(JsonWriter, WritesWhatSerializeWritesForTheSameDocument) {
  std::string text;
  Writer out(text);
  out.begin_object();
  out.key("s").string("a \"quoted\"\n\x01 line");
  out.key("n").null();
  out.key("t").boolean(true).key("f").boolean(false);
  out.key("i").integer(-9223372036854775807LL - 1);
  out.key("zero").integer(0);
  out.key("empty").begin_object().end_object();
  out.key("list").begin_array();
  out.integer(1)
      .string("two")
      .begin_array()
      .end_array()
      .begin_object()
      .key("k")
      .null()
      .end_object();
  out.end_array();
  out.key("model").value(parsed(R"({"x":[1.50,"y",{"z":false}],"q":{}})"));
  out.key("raw").raw(R"({"kept":"as is"})");
  std::optional<std::string> absent;
  std::optional<std::string> present = "here";
  out.key("absent").string_or_null(absent).key("present").string_or_null(present);
  out.key_text("a \"name\" known only at run time").integer(1);
  out.end_object();

  const Value expected = object({
      {"s", Value("a \"quoted\"\n\x01 line")},
      {"n", Value(nullptr)},
      {"t", Value(true)},
      {"f", Value(false)},
      {"i", Value(std::int64_t{-9223372036854775807LL - 1})},
      {"zero", Value(0)},
      {"empty", Value(Object{})},
      {"list", Value(Array{Value(1), Value("two"), Value(Array{}), object({{"k", Value()}})})},
      {"model", parsed(R"({"x":[1.50,"y",{"z":false}],"q":{}})")},
      {"raw", object({{"kept", Value("as is")}})},
      {"absent", Value()},
      {"present", Value("here")},
      {"a \"name\" known only at run time", Value(1)},
  });
  EXPECT_EQ(text, serialize(expected));
  EXPECT_EQ(parsed(text), expected);
}

TEST(JsonWriter, TopLevelValuesAndArraysOfScalarsNeedNoKeys) {
  std::string text;
  Writer(text).begin_array().string("a").integer(2).null().boolean(false).end_array();
  EXPECT_EQ(text, R"(["a",2,null,false])");
  std::string scalar;
  Writer(scalar).string("only");
  EXPECT_EQ(scalar, R"("only")");
}

TEST(JsonPlainBytes, AWordNeedsEscapingForEachSpecialByteAtEachPosition) {
  const std::string plain = "abcdefgh";
  EXPECT_FALSE(detail::word_needs_escaping(plain.data()));
  for (std::size_t at = 0; at < 8; ++at) {
    for (const int special : {0x00, 0x01, 0x1f, 0x22, 0x5c}) {
      std::string word = plain;
      word[at] = static_cast<char>(special);
      EXPECT_TRUE(detail::word_needs_escaping(word.data())) << at << " " << special;
    }
    for (const int near : {0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f}) {
      std::string word = plain;
      word[at] = static_cast<char>(near);
      EXPECT_FALSE(detail::word_needs_escaping(word.data())) << at << " " << near;
    }
    std::string word = plain;
    word[at] = static_cast<char>(0xc3);  // a UTF-8 lead byte is written as it is
    EXPECT_FALSE(detail::word_needs_escaping(word.data())) << at;
  }
}

// The escaping as written byte by byte, to compare the word-at-a-time writer with.
std::string escaped_slowly(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

TEST(JsonPlainBytes, StringsWriteAndParseAsByteByByteAtEveryLengthAndPlace) {
  std::mt19937 random(20261207);
  const std::string alphabet = std::string("abcXYZ09 {}[]:,\"\\/\x01\x1f\n\t") + "\xc3\xa9";
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const std::size_t length = random() % 40;
    while (text.size() < length) {
      const std::size_t pick = random() % (alphabet.size() - 1);
      if (alphabet[pick] == '\xc3') {
        text += "\xc3\xa9";  // always a whole UTF-8 sequence
      } else if (alphabet[pick] != '\xa9') {
        text += alphabet[pick];
      }
    }
    const std::string written = serialize(Value(text));
    ASSERT_EQ(written, escaped_slowly(text)) << round;
    const auto read = parse(written);
    ASSERT_TRUE(read.has_value()) << round << " " << written;
    ASSERT_EQ(read->as_string(), text) << round;
  }
  // Bytes the parser refuses are found wherever a word starts or ends.
  for (std::size_t at = 0; at < 20; ++at) {
    std::string bad = "\"" + std::string(20, 'a') + "\"";
    bad[1 + at] = static_cast<char>(0xff);
    EXPECT_FALSE(parse(bad).has_value()) << at;
    bad[1 + at] = '\x01';
    EXPECT_FALSE(parse(bad).has_value()) << at;
  }
}

}  // namespace
}  // namespace tillgate::json
