# Writes OUTPUT, a C++ source holding the bytes of INPUT as
#   const unsigned char SYMBOL[] (NUL-terminated) and const std::size_t SYMBOL_size
# in namespace tillgate::embedded. Run by a custom command at build time:
#   cmake -DINPUT=<file> -DOUTPUT=<file.cpp> -DSYMBOL=<name> -P embed_file.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
set(lines "")
set(offset 0)
while(offset LESS hex_length)
  string(SUBSTRING "${hex}" ${offset} 64 chunk)  # 32 bytes a line
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," chunk "${chunk}")
  string(APPEND lines "    ${chunk}\n")
  math(EXPR offset "${offset} + 64")
endwhile()
get_filename_component(input_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}"
  "// Generated at build time from ${input_name} by cmake/embed_file.cmake. Do not edit.\n"
  "#include <cstddef>\n\n"
  "namespace tillgate::embedded {\n\n"
  "extern const unsigned char ${SYMBOL}[];\n"
  "extern const std::size_t ${SYMBOL}_size;\n\n"
  "const unsigned char ${SYMBOL}[] = {\n${lines}    0x00};\n"
  "const std::size_t ${SYMBOL}_size = ${size};\n\n"
  "}  // namespace tillgate::embedded\n")
