"""Reports to send: one referral's options as HTML or PDF, for the family or the tumour board
(MDT), in English or Chinese.

`content.build_report` turns a match result into the report's data (pure, no templates);
`document` renders it with Jinja2 and, for PDF, WeasyPrint with the bundled CJK font. Only the
`report` command imports this package, so single look-ups stay fast.
"""
