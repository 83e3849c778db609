"""Matrix Cookbook identities (K. B. Petersen, M. S. Pedersen, Nov 2012), by equation.

Each row: (name, declarations, expression, variable, expected canonical gradient text).
The expected text is matdiff's canonical form; every row is also checked
against finite differences.  Shapes follow the cookbook: X is n x m unless it
must be square.
"""

SQ = "X: n x n"
RECT = "X: n x m"

# name, declarations, expression, wrt, expected gradient
GRADIENTS = [
    # -- 2.1 determinants ------------------------------------------------------------
    ("cookbook_49_det", [SQ], "det(X)", "X", "det(X) X^-T"),
    ("cookbook_51_det_AXB", [SQ, "A, B: n x n"], "det(A X B)", "X", "det(A X B) X^-T"),
    ("cookbook_53_logdet", [SQ], "logdet(X)", "X", "X^-T"),
    ("cookbook_54_det_inverse", [SQ], "det(X^-1)", "X", "-X^-T / det(X)"),
    ("cookbook_55_det_XtAX_sym", [RECT, "A: n x n symmetric"], "det(X^T A X)", "X",
     "2 det(X^T A X) A X (X^T A X)^-1"),
    ("cookbook_56_det_XtAX", [RECT, "A: n x n"], "det(X^T A X)", "X",
     "det(X^T A X) (A X (X^T A X)^-1 + A^T X (X^T A X)^-T)"),
    ("cookbook_57_logdet_XtX", [RECT], "logdet(X^T X)", "X", "2 X (X^T X)^-1"),
    ("cookbook_58_logdet_XtAX", [RECT, "A: n x n symmetric"], "logdet(X^T A X)", "X",
     "2 A X (X^T A X)^-1"),
    ("cookbook_det_power", [SQ], "det(X^3)", "X", "3 det(X^3) X^-T"),
    # -- 2.2 inverses ----------------------------------------------------------------
    ("cookbook_61_aT_Xinv_b", [SQ, "a, b: n"], "a^T X^-1 b", "X", "-X^-T a b^T X^-T"),
    ("cookbook_63_tr_A_Xinv_B", [SQ, "A, B: n x n"], "tr(A X^-1 B)", "X",
     "-X^-T A^T B^T X^-T"),
    ("cookbook_64_tr_inv_X_plus_A", [SQ, "A: n x n"], "tr(inv(X + A))", "X",
     "-((A + X)^-T)^2"),
    # -- 2.4.1 linear forms -------------------------------------------------------------
    ("cookbook_69_xTa", ["x, a: n"], "x^T a", "x", "a"),
    ("cookbook_69_aTx", ["x, a: n"], "a^T x", "x", "a"),
    ("cookbook_70_aTXb", [RECT, "a: n", "b: m"], "a^T X b", "X", "a b^T"),
    ("cookbook_71_aTXtb", [RECT, "a: m", "b: n"], "a^T X^T b", "X", "b a^T"),
    ("cookbook_72_aTXa", [SQ, "a: n"], "a^T X a", "X", "a a^T"),
    # -- 2.4.2 second order -------------------------------------------------------------
    ("cookbook_77_bTXtXc", [RECT, "b, c: m"], "b^T X^T X c", "X", "X (b c^T + c b^T)"),
    ("cookbook_78_affine_quadratic", ["x: n", "B, D: k x n", "C: k x k", "b, d: k"],
     "(B x + b)^T C (D x + d)", "x", "B^T C (D x + d) + D^T C^T (B x + b)"),
    ("cookbook_81_xTBx", ["x: n", "B: n x n"], "x^T B x", "x", "(B + B^T) x"),
    ("cookbook_81_xTBx_symmetric", ["x: n", "B: n x n symmetric"], "x^T B x", "x", "2 B x"),
    ("cookbook_82_bTXtDXc", [RECT, "b, c: m", "D: n x n"], "b^T X^T D X c", "X",
     "D X c b^T + D^T X b c^T"),
    ("cookbook_83_XbcDXbc", [RECT, "b: m", "c: n", "D: n x n"], "(X b + c)^T D (X b + c)", "X",
     "(D + D^T) (X b + c) b^T"),
    ("cookbook_84_quadratic_s", ["x: n", "A: n x k", "s: k", "W: n x n symmetric"],
     "(x - A s)^T W (x - A s)", "s", "-2 A^T W (x - A s)"),
    ("cookbook_86_quadratic_x_minus_s", ["x, s: n", "W: n x n symmetric"],
     "(x - s)^T W (x - s)", "x", "2 W (x - s)"),
    ("cookbook_87_quadratic_s", ["x, s: n", "W: n x n symmetric"],
     "(x - s)^T W (x - s)", "s", "-2 W (x - s)"),
    ("cookbook_88_quadratic_x", ["x: n", "A: n x k", "s: k", "W: n x n symmetric"],
     "(x - A s)^T W (x - A s)", "x", "2 W (x - A s)"),
    ("cookbook_89_quadratic_A", ["x: n", "A: n x k", "s: k", "W: n x n symmetric"],
     "(x - A s)^T W (x - A s)", "A", "-2 W (x - A s) s^T"),
    # -- 2.5 traces ----------------------------------------------------------------------
    ("cookbook_99_tr_X", [SQ], "tr(X)", "X", "eye(n)"),
    ("cookbook_100_tr_XA", [RECT, "A: m x n"], "tr(X A)", "X", "A^T"),
    ("cookbook_101_tr_AXB", [RECT, "A: k x n", "B: m x k"], "tr(A X B)", "X", "A^T B^T"),
    ("cookbook_102_tr_AXtB", [RECT, "A: k x m", "B: n x k"], "tr(A X^T B)", "X", "B A"),
    ("cookbook_103_tr_XtA", [RECT, "A: n x m"], "tr(X^T A)", "X", "A"),
    ("cookbook_104_tr_AXt", [RECT, "A: n x m"], "tr(A X^T)", "X", "A"),
    ("cookbook_106_tr_X2", [SQ], "tr(X^2)", "X", "2 X^T"),
    ("cookbook_107_tr_X2B", [SQ, "B: n x n"], "tr(X^2 B)", "X", "B^T X^T + X^T B^T"),
    ("cookbook_108_tr_XtBX", [RECT, "B: n x n"], "tr(X^T B X)", "X", "(B + B^T) X"),
    ("cookbook_109_tr_BXXt", [RECT, "B: n x n"], "tr(B X X^T)", "X", "(B + B^T) X"),
    ("cookbook_110_tr_XXtB", [RECT, "B: n x n"], "tr(X X^T B)", "X", "(B + B^T) X"),
    ("cookbook_111_tr_XBXt", [RECT, "B: m x m"], "tr(X B X^T)", "X", "X (B + B^T)"),
    ("cookbook_112_tr_BXtX", [RECT, "B: m x m"], "tr(B X^T X)", "X", "X (B + B^T)"),
    ("cookbook_113_tr_XtXB", [RECT, "B: m x m"], "tr(X^T X B)", "X", "X (B + B^T)"),
    ("cookbook_114_tr_AXBX", [RECT, "A: m x n", "B: m x n"], "tr(A X B X)", "X",
     "A^T X^T B^T + B^T X^T A^T"),
    ("cookbook_115_tr_XtX", [RECT], "tr(X^T X)", "X", "2 X"),
    ("cookbook_116_tr_BtXtCXB", [RECT, "B: m x k", "C: n x n"], "tr(B^T X^T C X B)", "X",
     "(C + C^T) X B B^T"),
    ("cookbook_117_tr_XtBXC", [RECT, "B: n x n", "C: m x m"], "tr(X^T B X C)", "X",
     "B X C + B^T X C^T"),
    ("cookbook_118_tr_AXBXtC", [RECT, "A: k x n", "B: m x m", "C: n x k"],
     "tr(A X B X^T C)", "X", "A^T C^T X B^T + C A X B"),
    ("cookbook_119_tr_AXB_plus_C_sq", [RECT, "A: k x n", "B: m x p", "C: k x p"],
     "tr((A X B + C) (A X B + C)^T)", "X", "2 A^T (A X B + C) B^T"),
    ("cookbook_121_tr_X3", [SQ], "tr(X^3)", "X", "3 (X^T)^2"),
    ("cookbook_tr_XtAXB", [RECT, "A: n x n", "B: m x m"], "tr(X^T A X B)", "X",
     "A X B + A^T X B^T"),
    ("cookbook_tr_XtAXB_symmetric", [RECT, "A: n x n symmetric", "B: m x m symmetric"],
     "tr(X^T A X B)", "X", "2 A X B"),
    # -- 2.6 norms ----------------------------------------------------------------------
    ("cookbook_129_norm_x_minus_a", ["x, a: n"], "||x - a||", "x", "(x - a) / ||x - a||"),
    ("cookbook_131_norm_sq", ["x: n"], "||x||^2", "x", "2 x"),
    ("cookbook_132_frobenius_sq", [RECT], "||X||_F^2", "X", "2 X"),
    ("cookbook_frobenius", [RECT], "||X||_F", "X", "X / ||X||_F"),
    ("cookbook_least_squares_x", ["A: m x n", "x: n", "b: m"], "||A x - b||^2", "x",
     "2 A^T (A x - b)"),
    ("cookbook_least_squares_A", ["A: m x n", "x: n", "b: m"], "||A x - b||^2", "A",
     "2 (A x - b) x^T"),
    # -- elementwise and vector functions ---------------------------------------------
    ("sum_of_entries", [RECT], "sum(X)", "X", "ones(n, m)"),
    ("sum_exp", ["x: n"], "sum(exp(x))", "x", "exp(x)"),
    ("logsumexp", ["x: n"], "logsumexp(x)", "x", "softmax(x)"),
    ("sum_log_sigmoid", ["W: k x n", "x: n"], "sum(log(sigmoid(W x)))", "x",
     "W^T (1 - sigmoid(W x))"),
    ("hadamard_quadratic", ["x, a: n"], "sum(a .* x .* x)", "x", "2 (a .* x)"),
    ("trace_diag", ["x: n", "A: n x n"], "tr(A diag(x))", "x", "diag(A)"),
    ("scalar_variable", ["A: n x n", "alpha: scalar"], "tr(alpha A)", "alpha", "tr(A)"),
]
