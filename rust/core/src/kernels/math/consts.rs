//! The constants of the vectorised functions: polynomial coefficients,
//! range limits and splitting constants, one module per float type.

/// Constants for `f32`. Polynomial comments give the approximated function
/// and interval; the minimax error quoted is for the rounded coefficients.
pub(super) mod c32 {
    type F = f32;

    /// 1.5 * 2^23: adding it rounds |x| < 2^22 to an integer held in the low bits.
    pub const MAGIC: F = 12582912.0;

    // exp family. Below EXP_LO the result rounds to 0, above EXP_HI to inf.
    pub const EXP_LO: F = -104.0;
    pub const EXP_HI: F = 89.0;
    pub const EXP2_LO: F = -151.0;
    pub const EXP2_HI: F = 129.0;
    pub const EXPM1_LO: F = -30.0;
    /// |x| below which expm1(x) and ln1p(x) round to x.
    pub const TINY: F = 2.9802322e-8; // 2^-25
    /// ln 2 = LN2_HI + LN2_LO, LN2_HI with 16 significant bits (k * LN2_HI exact).
    pub const LN2_HI: F = 6.9314575e-1;
    pub const LN2_LO: F = 1.4286068e-6;
    /// e^r = 1 + r*Q(r), |r| <= ln2/2, relative error 2^-27.
    pub const EXP_Q: [F; 6] = [
        1.0,
        4.9999994e-1,
        1.6666509e-1,
        4.1668024e-2,
        8.368853e-3,
        1.38294e-3,
    ];
    /// expm1(r) = r + r^2*P(r), |r| <= ln2/2, relative error 2^-25.3.
    pub const EXPM1_P: [F; 5] = [5.0e-1, 1.6666573e-1, 4.166664e-2, 8.363755e-3, 1.3912971e-3];

    // log family.
    /// Subnormal inputs are scaled by 2^24 first.
    pub const SUBNORMAL_SCALE: F = 16777216.0;
    pub const SUBNORMAL_SHIFT: F = 24.0;
    /// 2 atanh(s) = 2s + s^3*Q(s^2), |s| <= (sqrt2-1)/(sqrt2+1), relative error 2^-30.
    pub const LOG_Q: [F; 3] = [6.6666776e-1, 3.997758e-1, 2.987093e-1];
    /// log2(e) - LOG2_E, log10(e) - LOG10_E.
    pub const LOG2E_LO: F = 1.925963e-8;
    pub const LOG10E_LO: F = -1.010305e-8;
    /// log10(2) = LOG10_2_HI + LOG10_2_LO, HI with 16 significant bits.
    pub const LOG10_2_HI: F = 3.0103302e-1;
    pub const LOG10_2_LO: F = -3.0243555e-6;

    // trig. pi = PI_A + PI_B + PI_C (72 bits).
    pub const TRIG_MAX: F = 1.0e5;
    pub const PI_A: F = core::f32::consts::PI;
    pub const PI_B: F = -8.742278e-8;
    pub const PI_C: F = -3.430249e-15;
    /// Low parts of pi, pi/2, pi/4 (constant = consts::X + X_LO).
    pub const PI_LO: F = -8.742278e-8;
    pub const PIO2_LO: F = -4.371139e-8;
    pub const PIO4_LO: F = -2.1855694e-8;
    /// sin(r) = r + r^3*P(r^2), |r| <= 1.01*pi/2, relative error 2^-27.
    pub const SIN_P: [F; 4] = [-1.6666658e-1, 8.33303e-3, -1.980685e-4, 2.5995182e-6];
    /// 2 tan(r/2) = r + r^3*P(r^2), |r| <= 1.01*pi/4, relative error 2^-28.
    pub const TAN_P: [F; 4] = [8.3333224e-2, 8.335023e-3, 8.352289e-4, 1.00154095e-4];

    // inverse trig.
    pub const TAN_PI_8: F = 4.1421357e-1;
    pub const TAN_3PI_8: F = 2.4142137;
    /// asin(s) = s + s^3*P(s^2), |s| <= 0.5, relative error 2^-27.
    pub const ASIN_P: [F; 5] = [
        1.6666752e-1,
        7.495308e-2,
        4.5469463e-2,
        2.4182757e-2,
        4.2162407e-2,
    ];
    /// atan(t) = t + t^3*P(t^2), |t| <= tan(pi/8), relative error 2^-30.
    pub const ATAN_P: [F; 5] = [
        -3.3333316e-1,
        1.9998525e-1,
        -1.4244297e-1,
        1.05982654e-1,
        -6.087337e-2,
    ];

    // hyperbolic.
    /// tanh(x) rounds to +-1 above this.
    pub const TANH_HI: F = 10.0;
    /// Below this tanh uses TANH_P. Off for f32: the expm1 form alone is within
    /// 2 ulp and the branch compiles away (faster).
    pub const TANH_POLY_MAX: F = 0.0;
    /// tanh(a) = a + a^3*P(a^2), a <= 0.55, relative error 2^-24.7 (unused, see above).
    pub const TANH_P: [F; 4] = [-3.3332947e-1, 1.3320729e-1, -5.267201e-2, 1.6437879e-2];
    /// sinh/cosh overflow above this; the clamp keeps k in range.
    pub const SINH_HI: F = 90.0;
    /// sinh(a) = a + a^3*P(a^2), a <= 1, relative error 2^-25.
    pub const SINH_P: [F; 3] = [1.6666716e-1, 8.330271e-3, 2.037334e-4];
    /// asinh(a) = ln(2a) + O(a^-2) above this; asinh(a) rounds to a below ASINH_TINY.
    pub const ASINH_BIG: F = 4096.0;
    pub const ASINH_TINY: F = 2.4414062e-4; // 2^-12

    // erf. erf(a) rounds to 1 above ERF_HI.
    pub const ERF_HI: F = 4.0;
    /// erf(a) = a (2/sqrt(pi) + a^2 P(a^2)), a <= 1, with 2/sqrt(pi) =
    /// FRAC_2_SQRT_PI + ERF_C0_LO; relative error 2^-29.
    pub const ERF_C0_LO: F = -5.8635383e-8;
    pub const ERF_P: [F; 6] = [
        -3.761263e-1,
        1.1283603e-1,
        -2.6854202e-2,
        5.1885983e-3,
        -8.0093986e-4,
        7.842549e-5,
    ];
    /// erfc(a) = exp(-a^2)*R(v), v = (a - 2.5)/1.5 in [-1, 1] for a in [1, 4];
    /// absolute error of erf 2^-26.
    pub const ERFC_V: (F, F) = (1.0 / 1.5, -2.5 / 1.5);
    pub const ERFC_R: [F; 8] = [
        2.1080682e-01,
        -1.1144467e-01,
        5.6620702e-02,
        -2.6364489e-02,
        9.753313e-03,
        -1.5272013e-02,
        -9.408262e-03,
        -6.7298063e-03,
    ];
}

/// Constants for `f64`; same meaning as in [`c32`].
pub(super) mod c64 {
    type F = f64;

    pub const MAGIC: F = 6755399441055744.0;

    pub const EXP_LO: F = -746.0;
    pub const EXP_HI: F = 710.0;
    pub const EXP2_LO: F = -1076.0;
    pub const EXP2_HI: F = 1025.0;
    pub const EXPM1_LO: F = -60.0;
    pub const TINY: F = 5.551115123125783e-17; // 2^-54
    /// ln2 = LN2_HI + LN2_LO, LN2_HI with 42 significant bits.
    pub const LN2_HI: F = 0.6931471805598903;
    pub const LN2_LO: F = 5.497923018708371e-14;
    /// e^r = 1 + r*Q(r), |r| <= ln2/2, relative error 2^-56.
    pub const EXP_Q: [F; 11] = [
        1.0,
        0.5000000000000006,
        0.16666666666666438,
        0.0416666666665758,
        0.008333333333481836,
        0.0013888888931698601,
        0.00019841269510813807,
        2.4801505216541164e-05,
        2.7557602457665856e-06,
        2.7626038346471835e-07,
        2.4989466681472274e-08,
    ];
    /// expm1(r) = r + r^2*P(r), |r| <= ln2/2, relative error 2^-60.
    pub const EXPM1_P: [F; 11] = [
        0.5,
        0.1666666666666667,
        0.041666666666666685,
        0.008333333333326129,
        0.0013888888888874387,
        0.0001984126987484235,
        2.4801587347368345e-05,
        2.755725537290247e-06,
        2.7557252884411257e-07,
        2.510522828671264e-08,
        2.0921598888909788e-09,
    ];

    pub const SUBNORMAL_SCALE: F = 18014398509481984.0; // 2^54
    pub const SUBNORMAL_SHIFT: F = 54.0;
    /// 2 atanh(s) = 2s + s^3*Q(s^2), |s| <= (sqrt2-1)/(sqrt2+1), relative error 2^-59.
    pub const LOG_Q: [F; 7] = [
        0.6666666666666734,
        0.3999999999941641,
        0.2857142874211452,
        0.2222219859348008,
        0.18183563569823014,
        0.15314063855892399,
        0.14795866660954915,
    ];
    pub const LOG2E_LO: F = 2.0355273740931033e-17;
    pub const LOG10E_LO: F = 1.098319650216765e-17;
    pub const LOG10_2_HI: F = 0.30102999566395283;
    pub const LOG10_2_LO: F = 2.8363394551044964e-14;

    /// pi = PI_A + PI_B + PI_C (159 bits).
    pub const TRIG_MAX: F = 1.0e9;
    pub const PI_A: F = core::f64::consts::PI;
    pub const PI_B: F = 1.2246467991473532e-16;
    pub const PI_C: F = -2.9947698097183397e-33;
    pub const PI_LO: F = 1.2246467991473532e-16;
    pub const PIO2_LO: F = 6.123233995736766e-17;
    pub const PIO4_LO: F = 3.061616997868383e-17;
    /// sin(r) = r + r^3*P(r^2), |r| <= 1.01*pi/2.
    pub const SIN_P: [F; 8] = [
        -0.16666666666666666,
        0.0083333333333332,
        -0.00019841269841208557,
        2.755731921073897e-06,
        -2.5052106817988663e-08,
        1.6058936260621132e-10,
        -7.642887803586034e-13,
        2.7199641768071077e-15,
    ];
    /// 2 tan(r/2) = r + r^3*P(r^2), |r| <= 1.01*pi/4, relative error 2^-58.
    pub const TAN_P: [F; 9] = [
        0.08333333333333384,
        0.008333333333300889,
        0.0008432539689644553,
        8.542768198374645e-05,
        8.655549440463204e-06,
        8.76817157579051e-07,
        8.922927350049963e-08,
        8.510075985579027e-09,
        1.2621742991484185e-09,
    ];

    pub const TAN_PI_8: F = 0.41421356237309503;
    pub const TAN_3PI_8: F = 2.414213562373095;
    /// asin(s) = s + s^3*P(s^2), |s| <= 0.5, relative error 2^-55.9.
    pub const ASIN_P: [F; 12] = [
        0.16666666666665406,
        0.07500000000337846,
        0.04464285682760585,
        0.030381959168002386,
        0.022371757280261292,
        0.017359716728592618,
        0.013885114126805684,
        0.012170027471073036,
        0.006524369178470962,
        0.019538335622982454,
        -0.01624035809799933,
        0.0319235085900582,
    ];
    /// atan(t) = t + t^3*P(t^2), |t| <= tan(pi/8), relative error 2^-59.
    pub const ATAN_P: [F; 11] = [
        -0.3333333333333319,
        0.19999999999952184,
        -0.14285714280054126,
        0.11111110776302668,
        -0.09090897551072255,
        0.07692056524796709,
        -0.0666306193689055,
        0.05847581584612762,
        -0.050379119772153244,
        0.03802901356899269,
        -0.017868100864492167,
    ];

    pub const TANH_HI: F = 20.0;
    /// Below this tanh uses TANH_P: E/(E+2) has up to ~2.2 ulp error where
    /// its result is below 1/2.
    pub const TANH_POLY_MAX: F = 0.55;
    /// tanh(a) = a + a^3*P(a^2), a <= 0.55, relative error 2^-55.5.
    pub const TANH_P: [F; 10] = [
        -0.33333333333332316,
        0.1333333333316893,
        -0.0539682538761626,
        0.02186948597641391,
        -0.00886319452232071,
        0.0035917198248531473,
        -0.0014532173134375196,
        0.0005791384989980497,
        -0.00021030460238381112,
        5.102287655987653e-05,
    ];
    pub const SINH_HI: F = 711.0;
    /// sinh(a) = a + a^3*P(a^2), a <= 1, relative error 2^-61.
    pub const SINH_P: [F; 7] = [
        0.16666666666666669,
        0.008333333333332912,
        0.0001984126984159341,
        2.755731910675569e-06,
        2.5052130999233813e-08,
        1.6056659078752659e-10,
        7.776605230643572e-13,
    ];
    pub const ASINH_BIG: F = 268435456.0; // 2^28
    pub const ASINH_TINY: F = 7.450580596923828e-09; // 2^-27

    pub const ERF_HI: F = 6.0;
    /// erf(a) = a (2/sqrt(pi) + a^2 P(a^2)), a <= 1, relative error 2^-56.8.
    pub const ERF_C0_LO: F = 1.533545961316588e-17;
    pub const ERF_P: [F; 11] = [
        -0.376126389031836,
        0.11283791670946283,
        -0.02686617064336508,
        0.0052239776078107794,
        -0.0008548325998117332,
        0.00012055295371093742,
        -1.4924742954213126e-05,
        1.644747292533528e-06,
        -1.6208700656417859e-07,
        1.372049479581471e-08,
        -7.795960135344008e-10,
    ];
    /// erfc(a) = exp(-a^2)*R(v), v = (a - 3.5)/2.5 in [-1, 1] for a in [1, 6];
    /// absolute error of erf 2^-56.
    pub const ERFC_V: (F, F) = (1.0 / 2.5, -3.5 / 2.5);
    pub const ERFC_R: [F; 21] = [
        0.15529365560718852,
        -0.10330894457769378,
        0.06663208341394143,
        -0.04176677817557419,
        0.025495567860146038,
        -0.015182898124885436,
        0.008831122679558654,
        -0.005031135854185178,
        0.0028221637117992783,
        -0.0014390598396813016,
        0.0009642547636084456,
        -0.0005689481003092018,
        -0.0006933301189261767,
        -0.001648559479405965,
        -0.0006526954845604899,
        0.00163206655892842,
        0.0037296697248931096,
        0.0037146098748674305,
        0.0021688480397304873,
        0.0007153630268985229,
        0.00010795126738698955,
    ];
}
