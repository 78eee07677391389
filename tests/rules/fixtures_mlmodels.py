"""Paired fixtures for the model-file rules (CW800-CW811), built in code.

`FIXTURES[rule_id] = (malicious_builder, benign_builder)`: each builder writes one model file
under the directory it is given and returns its path (scan it as a standalone model file). The
malicious one must raise the rule, the benign one must not. Nothing is ever unpickled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from support import modelcraft as mc

Builder = Callable[[Path], Path]


def _file(name: str, data: bytes) -> Builder:
    def build(where: Path) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        path = where / name
        path.write_bytes(data)
        return path

    return build


_TORCH = mc.torch_zip(mc.torch_state_dict_pickle())
_HIDDEN = (
    mc.proto(4) + mc.s("builtins") + mc.s("getattr") + mc.STACK_GLOBAL + mc.s("os") + mc.s("x") + mc.TUPLE2
    + mc.REDUCE + mc.s("system") + mc.STACK_GLOBAL + mc.STOP
)  # fmt: skip
_MEMO_BOMB = mc.proto(4) + mc.NONE + mc.MEMOIZE * 600_000 + mc.STOP
_SSTI = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
_TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"

FIXTURES: dict[str, tuple[Builder, Builder]] = {
    "CW800": (_file("model.pt", _TORCH), _file("site.pth", b"import os\n/opt/lib\n")),
    "CW801": (_file("model.pkl", mc.call("os", "system", mc.string0(mc.REVERSE_SHELL))), _file("model.pt", _TORCH)),
    "CW802": (_file("model.pkl", mc.call("mypkg.model", "Net", mc.NONE)), _file("arr.npy", mc.NPY_OBJECT)),
    "CW803": (_file("model.pkl", _HIDDEN), _file("model.joblib", mc.JOBLIB_DUMP)),
    "CW804": (
        _file("model.pkl", mc.torch_state_dict_pickle() + mc.call("os", "system", mc.string0("id"))),
        _file("legacy.pt", mc.torch_legacy()),
    ),
    "CW805": (_file("model.pkl", _MEMO_BOMB), _file("model.pkl", mc.torch_state_dict_pickle())),
    "CW806": (_file("pytorch_model.bin", mc.SEVEN_ZIP), _file("pytorch_model.bin", _TORCH)),
    "CW807": (
        _file("model.keras", mc.keras_zip([mc.dense_layer(), mc.lambda_layer()])),
        _file("model.keras", mc.keras_zip([mc.dense_layer()])),
    ),
    "CW808": (
        _file(
            "model.keras",
            mc.keras_zip([{"module": "mylayers.custom", "class_name": "Scale", "config": {"name": "scale"}}]),
        ),
        _file("model.keras", mc.keras_zip([mc.dense_layer()])),
    ),
    "CW809": (
        _file("model.safetensors", mc.safetensors({"w": ("F32", [2], b"\0" * 8)}, offsets={"w": [0, 4]})),
        _file("model.safetensors", mc.safetensors({"w": ("F32", [2], b"\0" * 8), "b": ("F16", [1], b"\0\0")})),
    ),
    "CW810": (_file("model.pt", mc.torch_zip(mc.torch_state_dict_pickle(), crc_ok=False)), _file("model.pt", _TORCH)),
    "CW811": (
        _file("model.gguf", mc.gguf({"general.name": "m", "tokenizer.chat_template": _SSTI})),
        _file("model.gguf", mc.gguf({"general.name": "m", "tokenizer.chat_template": _TEMPLATE})),
    ),
    "CW812": (_file("model.pt", mc.torchscript_zip()), _file("model.pt", _TORCH)),
}
