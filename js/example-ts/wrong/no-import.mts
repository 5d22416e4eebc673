// A module that uses JS without importing it: the global JS is a plain
// script's (see page.ts).
export {};
JS.Engine.start('conn');   // error TS2686
