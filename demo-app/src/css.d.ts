/** Stylesheets imported by the bundles arrive as text (esbuild's `text` loader, see server/src/demo/demo-assets.ts). */
declare module "*.css" {
  const text: string;
  export default text;
}
