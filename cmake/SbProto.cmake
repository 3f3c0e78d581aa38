# sb_add_proto(TARGET file.proto...)
#
# For each .proto (relative to proto/): protoc-c generates the message types
# (name.pb-c.[ch]); protoc writes a descriptor set that the project's own
# generator, sb-stubgen, turns into typed RPC stubs (name.sb.[ch]): sync and
# async client calls and a server registration table per service.
set(SB_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${SB_GEN_DIR})
find_program(PROTOC_C protoc-c REQUIRED)
find_program(PROTOC protoc REQUIRED)

function(sb_add_proto target)
  set(srcs)
  foreach(p ${ARGN})
    get_filename_component(base ${p} NAME_WE)
    set(in ${CMAKE_SOURCE_DIR}/proto/${p})
    add_custom_command(
      OUTPUT ${SB_GEN_DIR}/${base}.pb-c.c ${SB_GEN_DIR}/${base}.pb-c.h
             ${SB_GEN_DIR}/${base}.sb.c ${SB_GEN_DIR}/${base}.sb.h
      COMMAND ${PROTOC_C} --c_out=${SB_GEN_DIR} -I${CMAKE_SOURCE_DIR}/proto ${in}
      COMMAND ${PROTOC} --include_imports
              --descriptor_set_out=${SB_GEN_DIR}/${base}.desc
              -I${CMAKE_SOURCE_DIR}/proto ${in}
      COMMAND $<TARGET_FILE:sb-stubgen> ${SB_GEN_DIR}/${base}.desc ${p}
              ${SB_GEN_DIR}
      DEPENDS ${in} sb-stubgen
      COMMENT "Generating types and stubs for ${p}"
      VERBATIM)
    list(APPEND srcs ${SB_GEN_DIR}/${base}.pb-c.c ${SB_GEN_DIR}/${base}.sb.c)
  endforeach()
  target_sources(${target} PRIVATE ${srcs})
  target_include_directories(${target} PUBLIC ${SB_GEN_DIR})
endfunction()
