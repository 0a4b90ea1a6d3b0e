# Chinese enum labels come from the standard itself (yiwang-domain); only extra labels here.
