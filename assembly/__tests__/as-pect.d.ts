// Editor typings for the specs (describe, it, expect, log, ...). The compiler gets them from as-pect's entry file.
/// <reference types="@as-pect/assembly/types/as-pect" />
