# -*- Python -*-
# lit configuration of the sensq test suite.

import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "SENSQ"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.sensq_obj_root, "test")

config.substitutions.append(("%sensq_src", config.sensq_src_root))
config.substitutions.append(("%model", os.path.join(config.sensq_src_root, "data", "stories260K-f32.gguf")))
config.substitutions.append(("%text", os.path.join(config.sensq_src_root, "data", "tinystories-valid-sample.txt")))
config.substitutions.append(("%python", config.python_executable))
config.substitutions.append((
    "%mlir_runner_libs",
    ",".join(os.path.join(config.mlir_lib_dir, lib) for lib in
             ["libmlir_runner_utils.so", "libmlir_c_runner_utils.so"])))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.sensq_tools_dir, config.llvm_tools_dir]
tools = [
    ToolSubst("sensq-opt", unresolved="ignore"),
    ToolSubst("sensq-translate", unresolved="ignore"),
    ToolSubst("sensq-run", unresolved="ignore"),
]
llvm_config.add_tool_substitutions(tools, tool_dirs)
