# Embeds a file as a C array: cmake -DIN=file -DOUT=header -DNAME=symbol -P cs_embed.cmake
# (the flush script, ingest/cs_ingest_flush.lua, is compiled into cshield-ingest this way).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
get_filename_component(base "${IN}" NAME)
file(WRITE "${OUT}" "/* generated from ${base} by cmake/cs_embed.cmake: do not edit */\nstatic const char ${NAME}[] = {${body}0x00};\n")
