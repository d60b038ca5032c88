"""Writes a C++ source defining a function that returns a file's text (used for built-in rules)."""
import sys

source, output, function = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(source, "rb").read()
chunks = []
for i in range(0, len(data), 16):
    chunks.append(", ".join(str(b) for b in data[i:i + 16]))
body = ",\n    ".join(chunks)
with open(output, "w") as out:
    out.write("// Generated from %s by scripts/embed_text.py; do not edit.\n" % source.split("/")[-1])
    out.write("#include <string_view>\n\nnamespace hostprint::collectors {\n")
    out.write("namespace {\nconstexpr char text[] = {\n    %s, 0};\n}  // namespace\n\n" % body)
    out.write("std::string_view %s() { return {text, sizeof text - 1}; }\n\n" % function)
    out.write("}  // namespace hostprint::collectors\n")
