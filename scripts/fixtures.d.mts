export declare const FIXTURES: string | null;
export declare const MISSING: string;
export declare function fixtures(): string;
