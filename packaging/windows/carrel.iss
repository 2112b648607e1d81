; Inno Setup script for Carrel on Windows (Inno Setup 6.2 or newer). Build steps: README.md,
; "Building the installers". From the repository root, after `pyinstaller installer.spec`
; has written dist\carrel\ on a Windows machine:
;
;     iscc /DAppVersion=0.1.0 packaging\windows\carrel.iss
;
; writes dist\packages\carrel-setup-0.1.0.exe. It installs per user or for everyone (the
; installer asks), adds Carrel to the Start menu (the windowed carrel-gui.exe), and can put
; the folder with carrel.exe (the command line) on the PATH. Uninstalling removes exactly
; what was installed: Carrel keeps the person's data in %APPDATA% / %LOCALAPPDATA%
; (platformdirs), never in the install folder, and leaves it for them.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6E7B2F1C-3C4D-4E8A-9B0F-CA88E1A5D3B7}
AppName=Carrel
AppVersion={#AppVersion}
AppPublisher=Carrel developers
DefaultDirName={autopf}\Carrel
DefaultGroupName=Carrel
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist\packages
OutputBaseFilename=carrel-setup-{#AppVersion}
SetupIconFile=..\..\resources\icons\carrel.ico
UninstallDisplayIcon={app}\carrel-gui.exe
; torch and the models are ~1.2 GB unpacked: LZMA2 solid gets them to about half.
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Put the carrel command on the PATH"; Flags: unchecked

[Files]
Source: "..\..\dist\carrel\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Carrel"; Filename: "{app}\carrel-gui.exe"
Name: "{autodesktop}\Carrel"; Filename: "{app}\carrel-gui.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\carrel-gui.exe"; Description: "{cm:LaunchProgram,Carrel}"; Flags: nowait postinstall skipifsilent

[Code]
function NeedsAddPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
