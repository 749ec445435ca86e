# anneal_add_plugin(<target> <sources>...): builds an Anneal plugin (a loadable module) against
# the anneal::anneal target, in this source tree or out of tree after find_package(anneal).
# Load the result with `anneal train ... --plugin <file>` or a `plugins:` list in a spec.
function(anneal_add_plugin target)
  add_library(${target} MODULE ${ARGN})
  target_link_libraries(${target} PRIVATE anneal::anneal)
  target_compile_features(${target} PRIVATE cxx_std_20)
  # Only the two entry points need to be visible; ANNEAL_PLUGIN marks them.
  set_target_properties(${target} PROPERTIES PREFIX "" CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
endfunction()
