"""Capture: where attention lives in a model, and reading or replacing it while the model runs.

``sites`` (where attention lives), ``hooks`` (``capture()``: the only module
that registers torch hooks), ``trace`` (the frozen records it returns),
``edits`` (attention replacements for faithfulness tests). Imports no model
family. (Called ``capturing``, not ``capture``: a package of that name would
shadow the public function ``attnprobe.capture`` once imported.)
"""
